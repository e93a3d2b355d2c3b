"""``glacier graph``: Mermaid and DOT on stdout, pictures in files."""

from __future__ import annotations

import shutil
from pathlib import Path

from .commands import invoke
from .projects import ETL, envs_project, medallion_project, write


def test_graph_prints_mermaid_without_output(project: Path) -> None:
    write(project, {"etl.py": ETL})
    code, out, err = invoke("graph", "etl.py")
    assert code == 0, err
    assert out.startswith("---\ntitle: pipeline etl")
    assert "flowchart LR" in out
    assert 't_extract["<b>extract</b>' in out
    assert "t_extract --> d_raw" in out and "d_raw --> t_transform" in out
    assert "d_raw --> t_peek" in out and "t_summarize --> d_total" in out


def test_graph_dot_on_stdout(project: Path) -> None:
    write(project, {"etl.py": ETL})
    code, out, _ = invoke("graph", "etl.py", "--format", "dot")
    assert code == 0
    assert out.startswith('digraph "etl" {') and "t_extract -> d_raw;" in out


def test_graph_png_is_a_real_picture(project: Path) -> None:
    assert shutil.which("dot"), "Graphviz's dot is missing: `python3 dev.py test` installs it"
    envs_project(project)
    code, out, err = invoke("graph", "by_env.py", "-o", "pictures/dag.png")
    assert code == 0, err
    png = (project / "pictures" / "dag.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    assert width > 200 and height > 50 and len(png) > 5_000
    assert "wrote pictures/dag.png" in out and "1 tasks, 1 datasets, 1 edges" in out
    code, _, _ = invoke("graph", "by_env.py", "-o", "pictures/dag.svg")
    svg = (project / "pictures" / "dag.svg").read_text()
    assert code == 0 and "<svg" in svg and "make" in svg and "lambda 256 MB" in svg


def test_graph_shows_compute_storage_and_environment(project: Path) -> None:
    envs_project(project)
    code, _, err = invoke("graph", "by_env.py", "--env", "prod", "-o", "dag.mmd")
    assert code == 0, err
    text = (project / "dag.mmd").read_text()
    assert "title: pipeline by-env-prod (env prod)" in text
    assert "lambda 256 MB" in text
    code, _, _ = invoke("graph", "by_env.py", "-o", "dag.dot")
    assert code == 0 and "digraph" in (project / "dag.dot").read_text()


def test_graph_of_the_medallion_example(project: Path) -> None:
    medallion_project(project)
    code, out, err = invoke("graph", "medallion.py")
    assert code == 0, err
    assert "lambda 1024 MB" in out and "ecs 512 cpu / 1024 MB" in out
    assert "daily_revenue" in out and "dev-gold-zone/daily_revenue.parquet" in out
    assert "env: dev" in out
    assert "t_clean --> d_orders" in out and "d_orders --> t_revenue" in out
    code, out, _ = invoke("graph", "medallion.py", "--env", "prod")
    assert code == 0
    assert "s3://finks-prod-gold-zone/daily_revenue.parquet" in out and "env: prod" in out


def test_graph_unknown_suffix_is_a_usage_error(project: Path) -> None:
    write(project, {"etl.py": ETL})
    code, _, err = invoke("graph", "etl.py", "-o", "dag.txt")
    assert code == 2 and "unknown suffix" in err
