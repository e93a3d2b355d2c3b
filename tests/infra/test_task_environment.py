"""What a deployed task is given at run time, and that it does not configure settings."""

from __future__ import annotations

import subprocess
import sys

from glacier.infra import plan
from infra.pipelines import glue_pipeline, without_glacier_vars
from infra.plans import FUNCTION, GLUE_JOB


def test_what_tasks_are_given_in_the_cloud_does_not_configure_settings() -> None:
    from glacier.infra.runtime import TASK_VARIABLES
    from glacier.settings import GlacierSettings

    p = plan(glue_pipeline())
    given = dict(p.get(FUNCTION, "spark-publish-function").inputs["environment"]["variables"])
    args = p.of_type(GLUE_JOB)[0].inputs["defaultArguments"]
    given.update({k[2:]: v for k, v in args.items() if k.startswith("--GLACIER_")})
    assert set(given) <= set(TASK_VARIABLES)
    fields = {f.upper() for f in GlacierSettings.model_fields}
    # GLACIER_ENV selects the environment; nothing else given configures a setting.
    assert {name.removeprefix("GLACIER_") for name in TASK_VARIABLES} & fields == {"ENV"}
    code = (
        "from glacier.settings import GlacierSettings, TaskConfig\n"
        "assert GlacierSettings().task == TaskConfig()\n"  # a deployed task loads its settings
        "loaded = GlacierSettings.load(settings_dir='/nonexistent')\n"  # baked, no file
        "print('settings loaded', loaded.env, loaded.provider.kind)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**without_glacier_vars(), **given},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"settings loaded {given['GLACIER_ENV']} aws"
