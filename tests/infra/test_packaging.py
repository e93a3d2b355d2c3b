"""What a deployed task's code archive holds: the pipeline's package without dotfiles."""

from __future__ import annotations

from pathlib import Path

from glacier.infra.aws.packaging import code_files, glacier_files
from glacier.infra.model import CodeSpec


def test_the_code_archive_ships_no_dotfiles_environments_or_byte_code(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    for name in (
        "__init__.py",
        "pipeline.py",
        "sql/orders.sql",
        ".env",
        ".git/config",
        ".venv/lib/site.py",
        "__pycache__/pipeline.cpython-311.pyc",
        "sub/.secrets.toml",
        "sub/etl.pyc",
    ):
        (shop / name).parent.mkdir(parents=True, exist_ok=True)
        (shop / name).write_text("x", encoding="utf-8")
    files = code_files(CodeSpec(file=shop / "pipeline.py", attr="pipeline", root=tmp_path))
    assert sorted(files) == ["shop/__init__.py", "shop/pipeline.py", "shop/sql/orders.sql"]


def test_modules_beside_the_pipeline_file_skip_hidden_ones(tmp_path: Path) -> None:
    for name in ("etl.py", "helpers.py", ".scratch.py", ".env"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    files = code_files(CodeSpec(file=tmp_path / "etl.py", attr="pipeline", root=tmp_path))
    assert sorted(files) == ["etl.py", "helpers.py"]


def test_glacier_itself_is_shipped_as_python_sources_only() -> None:
    names = list(glacier_files())
    assert "glacier/infra/runtime.py" in names
    assert all(n.endswith((".py", ".typed")) for n in names)
    assert not [n for n in names if "/." in n or "__pycache__" in n]
