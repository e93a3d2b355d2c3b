"""``glacier run --resume`` reuses a task only while it is the same task (code, params,
inputs' versions), says what it computed again, and refuses another pipeline's run."""

from __future__ import annotations

import json
from pathlib import Path

from .commands import invoke
from .projects import write

# ``make`` stores its output, so a resume may reuse it; ``use`` fails while the flag file is
# there. A fresh run gives [30] with the edited body, [3] with the first.
PIPE = """
from pathlib import Path

import polars as pl

from glacier import Dataset, Environment, Pipeline

HERE = Path(__file__).parent
pipeline = Pipeline("{name}", env=Environment.from_env())
made = Dataset("made", storage="zone/{name}.parquet")
used = Dataset("used")


@pipeline.task()
def make(k: int = 3) -> made:
    return pl.DataFrame({{"v": [{factor} * k]}})


@pipeline.task()
def use(data: made) -> used:
    if (HERE / "down").exists():
        raise RuntimeError("warehouse down")
    print("result", data.collect()["v"].to_list())
    return data.collect()
"""

DEV_TOML = """
[provider]
kind = "local"
base_path = "data"
"""


def _project(root: Path, factor: int = 1, name: str = "make_use", file: str = "pipe.py") -> None:
    write(root, {file: PIPE.format(factor=factor, name=name), "containers/dev.toml": DEV_TOML})


def _failed_run(root: Path) -> None:
    (root / "down").touch()
    code, _, err = invoke("run", "pipe.py")
    assert code == 1, err
    (root / "down").unlink()


def test_resume_recomputes_a_task_whose_body_changed_and_says_so(project: Path) -> None:
    _project(project)
    _failed_run(project)
    _project(project, factor=10)  # make's body edited after it succeeded

    code, out, err = invoke("run", "pipe.py", "--resume")

    assert code == 0, err
    assert "result [30]" in out
    assert "nothing reused: every task ran again" in out
    assert "make: recomputed: its code changed since run" in out

    code, out, err = invoke("runs", "list", "--json")
    last = json.loads(out)[-1]["run_id"]
    code, out, err = invoke("runs", "show", last)
    assert code == 0, err
    assert "recomputed: its code changed since run" in out  # the record keeps why


def test_resume_recomputes_a_task_given_other_params(project: Path) -> None:
    _project(project)
    _failed_run(project)

    code, out, err = invoke("run", "pipe.py", "--resume", "-p", "make.k=5")

    assert code == 0, err
    assert "result [5]" in out
    assert "make: recomputed: its params changed since run" in out


def test_resume_reuses_an_unchanged_task(project: Path) -> None:
    _project(project)
    _failed_run(project)

    code, out, err = invoke("run", "pipe.py", "--resume")

    assert code == 0, err
    assert "result [3]" in out and "reused from the earlier run: make" in out
    assert "recomputed" not in out


def test_resume_from_a_run_of_another_pipeline_is_refused(project: Path) -> None:
    _project(project, name="other", file="other.py")
    code, out, err = invoke("run", "other.py", "--json")
    assert code == 0, err
    other_run = out[out.index('"run_id"') :].split('"')[3]
    _project(project)

    code, out, err = invoke("run", "pipe.py", "--resume-from", other_run)

    assert code == 2
    assert f"Run {other_run!r} is a run of pipeline 'other', not of 'make_use'" in err
    assert "result" not in out
