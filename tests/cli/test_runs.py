"""Operating runs: ``glacier runs list/show``, ``--resume``, ``--select``/``--exclude``,
``--json`` and ``--junit-xml``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from .commands import invoke
from .projects import ETL, write

# A project with settings: the run store lives under <project>/.glacier wherever the command
# runs from. ``stage`` writes a stored dataset, so a resumed run can reuse it.
STAGED = """
from pathlib import Path

import polars as pl

from glacier import Dataset, Environment, Pipeline

HERE = Path(__file__).parent
pipeline = Pipeline("staged", env=Environment.from_env())
staged = Dataset("staged", storage="zone/staged.parquet")
final = Dataset("final")
calls = HERE / "calls.txt"


@pipeline.task(tags=["nightly"])
def stage() -> staged:
    with calls.open("a") as f:
        f.write("stage\\n")
    return pl.DataFrame({"v": [1, 2]})


@pipeline.task()
def load(data: staged) -> final:
    with calls.open("a") as f:
        f.write("load\\n")
    if (HERE / "warehouse-down").exists():
        raise RuntimeError("warehouse down")
    return data.collect()
"""

DEV_TOML = """
[provider]
kind = "local"
base_path = "data"
"""


def staged_project(root: Path) -> Path:
    write(root, {"staged.py": STAGED, "containers/dev.toml": DEV_TOML})
    (root / "sub").mkdir()
    return root


def test_runs_are_listed_and_shown_from_the_project_state_directory(project: Path) -> None:
    staged_project(project)
    (project / "warehouse-down").touch()
    code, _, err = invoke("run", "staged.py")
    assert code == 1, err
    assert (project / ".glacier" / "runs" / "runs.sqlite").exists()

    code, out, err = invoke("runs", "list", "--json", "--settings-dir", str(project / "containers"))
    assert code == 0, err
    runs = json.loads(out)
    assert [(r["pipeline"], r["status"]) for r in runs] == [("staged", "failed")]
    assert runs[0]["tasks"] == {"succeeded": 1, "failed": 1}
    run_id = runs[0]["run_id"]

    code, out, _ = invoke("runs", "list", "--status", "succeeded", "--json")
    assert json.loads(out) == []
    code, out, _ = invoke("runs", "list", "--pipeline", "staged")
    assert run_id in out and "failed" in out

    code, out, err = invoke("runs", "show", run_id, "--json")
    assert code == 0, err
    record = json.loads(out)
    # What `jq '.tasks[]'` iterates: one object per task.
    tasks = {t["name"]: t for t in record["tasks"]}
    assert tasks["stage"]["status"] == "succeeded" and tasks["stage"]["attempts"] == 1
    assert tasks["load"]["error"] == "RuntimeError: warehouse down"
    assert record["dataset_uris"]["staged"].endswith("zone/staged.parquet")
    assert record["dataset_versions"]["staged"]

    code, out, _ = invoke("runs", "show", run_id)
    assert "RuntimeError: warehouse down" in out and "datasets written" in out

    code, _, err = invoke("runs", "show", "20990101T000000-nope")
    assert code == 2 and "No run '20990101T000000-nope'" in err


def test_resume_reruns_only_what_failed_and_says_what_was_reused(project: Path) -> None:
    staged_project(project)
    (project / "warehouse-down").touch()
    code, _, _ = invoke("run", "staged.py")
    assert code == 1
    (project / "warehouse-down").unlink()

    code, out, err = invoke("run", "staged.py", "--resume")
    assert code == 0, err
    assert "reused from the earlier run: stage" in out
    assert (project / "calls.txt").read_text().split() == ["stage", "load", "load"]

    code, _, err = invoke("run", "staged.py", "--resume-from", "nope")
    assert code == 2 and "No run 'nope'" in err


def test_run_json_prints_the_record_and_junit_xml_one_case_per_task(project: Path) -> None:
    write(project, {"etl.py": ETL})
    code, out, err = invoke(
        "run", "etl.py", "--json", "--junit-xml", "reports/etl.xml", "-p", "transform.fail=true"
    )
    assert code == 1
    record = json.loads(out)  # stdout is the record only; the display went to stderr
    assert "glacier run pipeline etl" in err
    statuses = {t["name"]: t["status"] for t in record["tasks"]}
    assert statuses == {
        "extract": "succeeded",
        "transform": "failed",
        "summarize": "skipped",
        "peek": "succeeded",
    }
    suite = ET.parse(project / "reports" / "etl.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    failure = cases["transform"].find("failure")
    assert failure is not None and "boom: negative amounts" in (failure.get("message") or "")
    assert cases["summarize"].find("skipped") is not None
    assert cases["extract"].find("failure") is None


def test_select_with_graph_operators_tags_and_exclude(project: Path) -> None:
    write(project, {"etl.py": ETL})

    def ran(*args: str) -> set[str]:
        code, out, err = invoke("run", "etl.py", "--json", *args)
        assert code == 0, err
        return {t["name"] for t in json.loads(out)["tasks"]}

    # transform's input is in memory, so its producer runs too.
    assert ran("--select", "transform") == {"extract", "transform"}
    assert ran("--select", "+summarize") == {"extract", "transform", "summarize"}
    assert ran("--select", "extract+") == {"extract", "transform", "summarize", "peek"}
    assert ran("--select", "extract+", "--exclude", "summarize") == {
        "extract",
        "transform",
        "peek",
    }
    assert ran("--select", "sample") == {"extract", "peek"}  # a dataset: its producer
    assert ran("--only", "transform") == {"extract", "transform"}  # the alias of +X


def test_select_by_tag(project: Path) -> None:
    staged_project(project)
    code, out, err = invoke("run", "staged.py", "--json", "--select", "tag:nightly")
    assert code == 0, err
    assert [t["name"] for t in json.loads(out)["tasks"]] == ["stage"]


def test_selection_errors_name_the_close_names(project: Path) -> None:
    write(project, {"etl.py": ETL})
    code, _, err = invoke("run", "etl.py", "--select", "transfrom")
    assert code == 2
    assert "Did you mean 'transform'?" in err
    code, _, err = invoke("run", "etl.py", "--select", "tag:nightly")
    assert code == 2 and "No task is tagged 'nightly'" in err
    code, _, err = invoke("run", "etl.py", "--exclude", "+summarize+", "--exclude", "peek")
    assert code == 2 and "leaves no task to run" in err


ONE_TASK = """
import logging

import polars as pl

from glacier import Dataset, Pipeline

pipeline = Pipeline("solo")
out = Dataset("out")


@pipeline.task()
def only() -> out:
    logging.getLogger("solo").warning("just one task")
    return pl.DataFrame({"v": [1]})
"""


def test_the_logs_of_a_one_task_run_are_shown_again(project: Path) -> None:
    """A column whose values are all equal is stored once; a one-task run's logs (a list)
    must not be: read back, the list was taken for the column and the record was lost."""
    write(project, {"solo.py": ONE_TASK})
    code, out, err = invoke("run", "solo.py", "--json")
    assert code == 0, err
    run_id = json.loads(out)["run_id"]
    code, out, err = invoke("runs", "show", run_id, "--json")
    assert code == 0, err
    (task,) = json.loads(out)["tasks"]
    assert [e["message"] for e in task["logs"]] == ["just one task"]
