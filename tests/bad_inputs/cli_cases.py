"""The command line's part of the bad-input catalogue: arguments a user gets wrong.

Each row is ``(arguments, exit code, words)``: ``glacier ARGUMENTS``, run in a project
written by :func:`project`, exits with the code (2: the command line or configuration is
wrong; 1: the work failed) after one ``error:`` line on stderr holding each word, and no
traceback. To add a case, add a row; files it needs go into :data:`FILES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cli.projects import ETL, write


@dataclass(frozen=True)
class CliCase:
    args: tuple[str, ...]
    code: int
    words: tuple[str, ...]
    #: A failure in the user's own code is reported with where it happened (several lines).
    one_line: bool = True

    @property
    def id(self) -> str:
        return " ".join(self.args) or "(none)"


#: The project every case runs in.
FILES = {
    "etl.py": ETL,
    "syntax.py": "def broken(:\n",
    "nul.py": "x = 1\n",  # replaced by bytes in project()
    "gexit.py": "raise GeneratorExit('stop')\n",
    "own_base.py": "class Stop(BaseException):\n    pass\n\nraise Stop('halt')\n",
    "fails.py": "raise RuntimeError('no database')\n",
    "nothing.py": "x = 1\n",
    "notes.txt": "not python\n",
    "existing": "a file\n",
    "cont/dev.toml": '[provider]\nkind = "local"\n',
    "cont/latin.toml": "x = 1\n",  # replaced by bytes in project()
    "cont/broken.toml": "[provider\n",
    "cont/unknown.toml": 'naming_prefx = "x"\n',
    "cont/creds.toml": '[provider]\nkind = "aws"\nregion = "us-east-1"\naccess_key = "AKIA"\n',
    "exits.py": (
        "import sys\nfrom glacier import Dataset, Pipeline\npipeline = Pipeline('exits')\n\n"
        "@pipeline.task()\ndef stop() -> Dataset('x'):\n    sys.exit(3)\n"
    ),
    "interrupted.py": (
        "from glacier import Dataset, Pipeline\npipeline = Pipeline('interrupted')\n\n"
        "@pipeline.task()\ndef stop() -> Dataset('x'):\n    raise KeyboardInterrupt\n"
    ),
}


def project(root: Path) -> Path:
    write(root, FILES)
    (root / "nul.py").write_bytes(b"x = 1\x00\n")
    (root / "cont" / "latin.toml").write_bytes(b'naming_prefix = "caf\xe9"\n')
    (root / "adir").mkdir()
    return root


def cases(code: int, table: list[tuple[tuple[str, ...], tuple[str, ...]]]) -> list[CliCase]:
    return [CliCase(args, code, words) for args, words in table]


USAGE = cases(
    2,
    [
        (("nosuch",), ("No such command 'nosuch'", "glacier -h")),
        (("run",), ("Missing argument", "glacier run -h")),
        (("run", "etl.py", "--bogus"), ("--bogus", "glacier run -h")),
        (("run", "etl.py", "--executorr", "dask"), ("--executorr", "--executor")),
        (("run", "etl.py", "--executor", "spark"), ("'spark'",)),
        (("run", "etl.py", "--workers", "0"), ("--workers", "0")),
        (("run", "etl.py", "--workers", "many"), ("'many'",)),
        (("run", "etl.py", "--log-level", "LOUD"), ("LOUD",)),
        (("run", "etl.py", "--log-format", "xml"), ("xml",)),
        (("run", "etl.py", "--follow", "soon"), ("'soon'",)),
        (("run", "etl.py", "-p", "nope"), ("nope", "TASK.NAME=VALUE")),
        (("run", "etl.py", "-p", "extract.rows"), ("extract.rows", "TASK.NAME=VALUE")),
        (("run", "etl.py", "-p", "extract=5"), ("extract=5",)),
        (("run", "etl.py", "-p", "nosuch.rows=5"), ("'nosuch'", "Tasks: extract")),
        (("run", "etl.py", "-p", "extract.nosuch=5"), ("'nosuch'", "rows, label")),
        (("run", "etl.py", "--only", "nosuch"), ("'nosuch'", "Tasks:")),
        (("run", "etl.py", "--select", "nosuch"), ("'nosuch'", "Tasks:")),
        (("run", "etl.py", "--select", "+"), ("'+'", "e.g.")),
        (("run", "etl.py", "--select", "tag:"), ("tagged ''",)),
        (("run", "etl.py", "--select", "tag:nightly"), ("'nightly'",)),
        (("run", "etl.py", "--exclude", "nosuch"), ("'nosuch'",)),
        (("run", "etl.py", "--resume", "--resume-from", "x"), ("--resume", "not both")),
        (("run", "etl.py", "--resume-from", "nosuch"), ("'nosuch'", "glacier runs list")),
        (("run", "etl.py", "--resume-from", "../../etc/passwd"), ("'../../etc/passwd'",)),
        (("run", "etl.py", "--executor", "local", "--workers", "2"), ("--executor dask",)),
        (("run", "etl.py", "--address", "nonsense"), ("'nonsense'", "tcp://scheduler:8786")),
        (("run", "etl.py", "--endpoint", "http://x:1"), ("--endpoint", "--remote")),
        (("run", "etl.py", "--junit-xml", "adir"), ("'adir'", "glacier.xml")),
        (("run", "etl.py", "--env", "nosuch", "--settings-dir", "cont"), ("'nosuch'", "dev")),
        (("run", "etl.py", "--env", "dev", "--settings-dir", "nodir"), ("'dev'", "nodir")),
        (("run", "nosuch.py"), ("'nosuch.py'", "does not exist")),
        (("run", "notes.txt"), ("notes.txt", "Python module")),
        (("run", "adir"), ("adir", "Python module")),
        (("run", "etl.py:nosuch"), ("'nosuch'", "Found: pipeline")),
        (("run", "etl.py:extract"), ("'extract'", "Found: pipeline")),
        (("run", "nothing.py"), ("nothing.py", "pipeline")),
        (("run", "nosuch_module_xyz:pipeline"), ("'nosuch_module_xyz'", ".py file")),
        (("run", "os:path"), ("'path'", "Found:")),
        (("graph", "etl.py", "-f", "png"), ("'png'", "'mermaid'")),
        (("graph", "etl.py", "-o", "x.pdf"), ("x.pdf", ".svg")),
        (("graph", "nosuch.py"), ("'nosuch.py'",)),
        (("generate", "etl.py", "-o", "existing"), ("'existing'", "directory")),
        (("generate", "etl.py", "-o", "etl.py"), ("'etl.py'", "directory")),
        (("generate", "etl.py", "--env", "nosuch", "--settings-dir", "cont"), ("'nosuch'",)),
        (("plan", "etl.py", "--env", "nosuch", "--settings-dir", "cont"), ("'nosuch'",)),
        (("plan", "nosuch.py"), ("'nosuch.py'",)),
        (("runs", "show", "nosuch"), ("'nosuch'",)),
        (("runs", "show", "../../x"), ("'../../x'",)),
        (("runs", "list", "--limit", "0"), ("--limit", "0")),
        (("runs", "list", "--limit", "-1"), ("--limit", "-1")),
        (("runs", "list", "--status", "exploded"), ("exploded",)),
        (("tables", "history"), ("Missing argument",)),
        (("tables", "vacuum", "etl.py"), ("Missing argument",)),
        (("tables", "history", "etl.py", "raw", "--limit", "-1"), ("--limit", "-1")),
        (("tables", "history", "etl.py", "raw", "--limit", "0"), ("--limit", "0")),
        (
            ("tables", "vacuum", "etl.py", "raw", "--retention-hours", "-5"),
            ("--retention-hours", "-5"),
        ),
        (("envs", "show", "nosuch", "--settings-dir", "cont"), ("'nosuch'", "dev")),
        (("envs", "bogus"), ("No such command 'bogus'",)),
        (("init", "existing"), ("existing", "file")),
        (("init", "cont"), ("not empty", "--force")),
        # The second reliability round (issue 31): what the command line accepted.
        (("run", "etl.py", "--lineage", "ftp://example.com/x"), ("'ftp://example.com/x'", "http")),
        (("run", "etl.py", "--lineage", ""), ("--lineage", "file path")),
        (("run", "etl.py", "--settings-dir", ""), ("--settings-dir", "is empty")),
        (("runs", "list", "--state-dir", ""), ("--state-dir", "is empty")),
        (("run", "etl.py:"), ("'etl.py:'", "etl.py:pipeline")),
        (("runs", "list", "--state-dir", "etl.py"), ("etl.py is a file", "--state-dir")),
        (("runs", "show", "x", "--state-dir", "etl.py"), ("etl.py is a file",)),
        (("runs", "show", "a" * 5000), ("(5000 characters)", "glacier runs list")),
        (("init", "fresh", "--name", ""), ("--name ''", "letters")),
        (("init", "fresh", "--name", "../evil"), ("'../evil'", "letters")),
        (("init", "etl.py/sub"), ("etl.py is a file",)),
        (
            ("run", "etl.py", "-p", "extract.rows=3", "-p", "extract.rows=4"),
            ("extract.rows", "twice"),
        ),
        (("run", "etl.py", "--follow", "5"), ("--follow", "--remote")),
        (("rehearse", "etl.py"), ("nothing to deploy", "--env")),
        (("envs", "show", "--diff", "dev", "--settings-dir", "cont"), ("--diff dev OTHER",)),
    ],
)

#: Configuration errors (settings files, environment names): exit 2, like usage errors.
CONFIGURATION = cases(
    2,
    [
        (("run", "etl.py", "--env", "../x"), ("'../x'", "such a name")),
        (("envs", "show", "../x", "--settings-dir", "cont"), ("'../x'",)),
        (("envs", "show", "latin", "--settings-dir", "cont"), ("latin.toml", "UTF-8")),
        (("envs", "show", "broken", "--settings-dir", "cont"), ("broken.toml", "TOML")),
        (("envs", "show", "unknown", "--settings-dir", "cont"), ("naming_prefx",)),
        (("envs", "show", "creds", "--settings-dir", "cont"), ("access_key", "profile")),
        (("envs", "validate", "--settings-dir", "cont"), ("4 of 5", "latin", "broken")),
        (("envs", "validate", "--settings-dir", "nodir"), ("nodir", "--settings-dir")),
        (("envs", "--settings-dir", "existing"), ("existing", "does not exist")),
    ],
)

FAILURES = cases(
    1,
    [
        (("run", "syntax.py"), ("syntax.py:1", "not valid Python")),
        (("run", "nul.py"), ("nul.py", "not valid Python")),
        (("run", "gexit.py"), ("GeneratorExit", "gexit.py:1", "derive")),
        (("run", "own_base.py"), ("Stop", "own_base.py:4", "derive Stop from Exception")),
        (("deploy", "etl.py", "--preview"), ("Pulumi CLI", "Install")),
    ],
)

#: Errors in the user's own code: the report names the error and where it was raised.
USER_CODE = [
    CliCase(("run", "fails.py"), 1, ("RuntimeError", "no database", "fails.py:1"), False),
    CliCase(("run", "etl.py", "-p", "transform.fail=true"), 1, ("transform", "boom"), False),
]

#: ``glacier test``: the data checks on what is stored (etl.py's datasets have none).
CHECKS = cases(
    2,
    [
        (("test", "etl.py", "--select", "orders"), ("'orders'", "matches no dataset with checks")),
        (("test", "etl.py", "--junit-xml", "adir"), ("'adir'", "is a directory")),
    ],
)

#: The user's code leaving by the back door: still one error line, saying so.
LEAVING = [
    CliCase(("run", "exits.py"), 1, ("sys.exit(3)", "exits.py:7"), False),
    CliCase(("run", "interrupted.py"), 130, ("interrupted",)),
]

CLI_CASES: list[CliCase] = [*USAGE, *CONFIGURATION, *FAILURES, *USER_CODE, *CHECKS, *LEAVING]
