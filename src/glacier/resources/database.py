"""Databases (RDS, DynamoDB, Cloud SQL, ...) and shared file systems as resources."""

from __future__ import annotations

from typing import Any, ClassVar

from glacier.resources.base import Resource


class Database(Resource):
    """A database: ``engine`` is ``"postgres"``, ``"mysql"``, ``"dynamodb"``, ...

    Reading and writing go through the cloud's database adapter; infrastructure comes from
    the config (``RdsConfig``, ``DynamoDbConfig``).
    """

    kind: ClassVar[str] = "database"

    def __init__(self, database_name: str, engine: str = "postgres", **kwargs: Any) -> None:
        self.database_name = database_name
        self.engine = engine
        super().__init__(**kwargs)

    def _default_name(self) -> str:
        return self.database_name

    def read(self, query: str) -> Any:
        """Run a query and return a polars DataFrame."""
        return self.adapter.read(query)

    def write(self, data: Any, table: str, mode: str = "append") -> None:
        """Write a polars frame into ``table``."""
        self.adapter.write(data, table, mode)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update(database_name=self.database_name, engine=self.engine)
        if self.config is not None:
            out["config"] = self.config.model_dump(mode="json")
        return out


class Volume(Resource):
    """A shared network file system (EFS, Filestore, Azure Files) mounted by compute."""

    kind: ClassVar[str] = "volume"

    def __init__(self, file_system_name: str, **kwargs: Any) -> None:
        self.file_system_name = file_system_name
        super().__init__(**kwargs)

    def _default_name(self) -> str:
        return self.file_system_name

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update(file_system_name=self.file_system_name)
        if self.config is not None:
            out["config"] = self.config.model_dump(mode="json")
        return out
