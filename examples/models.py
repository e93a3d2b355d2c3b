"""Models through the pipeline: train a model in one task, store it with joblib, evaluate it
in another, then load it in a separate run -- and plan the same pipeline for AWS.

    python examples/models.py train [BASE_PATH]     # make the input, train, evaluate
    python examples/models.py predict [BASE_PATH]   # a later run: load the stored model
    python examples/models.py plan-aws              # the AWS resources, offline (Pulumi mocks)

The model is a least-squares linear regression in numpy (no scikit-learn needed); any
picklable model (a scikit-learn estimator, a booster) is stored the same way. Its dataset is
declared with ``format="joblib"``, so the trained object itself is stored and handed on, and
a task returning it for a table format would fail before anything is written. Loading a
joblib file runs code from it: see docs/storage.md ("Pickle and joblib run code when loaded").
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from glacier import AWSEnvironment, Dataset, GlacierEnv, Pipeline, Provider
from glacier.config import LocalConfig

FEATURES = ("engines", "passenger_capacity", "crew")


@dataclass
class LinearModel:
    """``price ~ features @ coef + intercept``, fitted by least squares."""

    coef: np.ndarray
    intercept: float

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray) -> LinearModel:
        design = np.column_stack([x, np.ones(len(x))])
        solution, *_ = np.linalg.lstsq(design, y, rcond=None)
        return cls(coef=solution[:-1], intercept=float(solution[-1]))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return x @ self.coef + self.intercept


def storage(env: Any, bucket: str, path: str, fmt: str) -> Any:
    """A dataset's Bucket in ``env``: a directory locally, an S3 bucket on AWS."""
    return env.provider.bucket(bucket, path=path, format=fmt)


def training_pipeline(env: Any) -> Pipeline:
    """Make the model input, train a regressor on it, evaluate it."""
    pipeline = Pipeline("spaceflights_models", env=env)
    model_input = Dataset(
        "model_input", storage=storage(env, "acme-features", "model_input.parquet", "parquet")
    )
    regressor = Dataset(
        "regressor",
        storage=storage(env, "acme-models", "regressor.joblib", "joblib"),
        write_options={"compress": 3},
    )
    metrics = Dataset(
        "metrics",
        storage=storage(env, "acme-reports", "metrics.doc.json", "json-document"),
        write_options={"indent": 2},
    )

    @pipeline.task()
    def make_model_input() -> model_input:
        rng = np.random.default_rng(7)
        x = rng.uniform(1, 10, size=(500, len(FEATURES)))
        price = x @ np.array([3.0, 0.5, -1.2]) + 4.0 + rng.normal(0, 0.1, 500)
        return pl.DataFrame({**{f: x[:, i] for i, f in enumerate(FEATURES)}, "price": price})

    @pipeline.task()
    def train(table: model_input) -> regressor:
        data = table.collect()
        return LinearModel.fit(data.select(FEATURES).to_numpy(), data["price"].to_numpy())

    @pipeline.task()
    def evaluate(model: regressor, table: model_input) -> metrics:
        data = table.collect()
        predicted = model.predict(data.select(FEATURES).to_numpy())
        actual = data["price"].to_numpy()
        r2 = 1 - ((actual - predicted) ** 2).sum() / ((actual - actual.mean()) ** 2).sum()
        return {"r2": round(float(r2), 4), "coef": [round(c, 2) for c in model.coef.tolist()]}

    return pipeline


def prediction_pipeline(env: Any) -> Pipeline:
    """A separate run: load the stored model (read-only here) and score new shuttles."""
    pipeline = Pipeline("spaceflights_predict", env=env)
    regressor = Dataset(
        "regressor",
        storage=storage(env, "acme-models", "regressor.joblib", "joblib"),
        read_only=True,
    )
    predictions = Dataset(
        "predictions", storage=storage(env, "acme-reports", "predictions.parquet", "parquet")
    )

    @pipeline.task()
    def predict(model: regressor) -> predictions:
        shuttles = pl.DataFrame({"engines": [2.0, 4.0], "passenger_capacity": [5.0, 8.0]})
        shuttles = shuttles.with_columns(crew=pl.lit(3.0))
        return shuttles.with_columns(price=pl.Series(model.predict(shuttles.to_numpy())))

    return pipeline


def aws_environment() -> AWSEnvironment:
    return AWSEnvironment(
        account_id="123456789012", region="eu-west-1", profile="prod", environment="prod"
    )


def plan_aws() -> None:
    """The same pipelines, planned for AWS: each task's role may touch only its datasets."""
    from glacier import infra

    env = aws_environment()
    for pipeline in (training_pipeline(env), prediction_pipeline(env)):
        planned = infra.plan(pipeline)
        print(f"{pipeline.name}: {len(planned)} resources")
        for policy in planned.of_type("aws:iam/rolePolicy:RolePolicy"):
            document = policy.inputs["policy"]
            statements = json.loads(document) if isinstance(document, str) else document
            for statement in statements["Statement"]:
                resources = statement["Resource"]
                resources = resources if isinstance(resources, list) else [resources]
                if any("acme-models" in r for r in resources):
                    actions = statement["Action"]
                    actions = actions if isinstance(actions, list) else [actions]
                    print(f"  {policy.name}: {sorted(actions)} on {sorted(resources)}")


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "train"
    if command == "plan-aws":
        plan_aws()
        return
    base_path = sys.argv[2] if len(sys.argv) > 2 else ".glacier/examples/models"
    env = GlacierEnv(provider=Provider(config=LocalConfig(base_path=base_path)), name="dev")
    if command == "train":
        result = training_pipeline(env).run()
        print(result.summary())
        metrics = env.provider.bucket("acme-reports", "metrics.doc.json", "json-document")
        print("metrics:", metrics.read())
    elif command == "predict":
        result = prediction_pipeline(env).run()
        print(result.summary())
        print(env.provider.bucket("acme-reports", "predictions.parquet").read())
    else:
        raise SystemExit(f"unknown command {command!r}: use train, predict or plan-aws")


if __name__ == "__main__":
    main()
