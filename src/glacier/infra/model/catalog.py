"""The Delta tables to register in a data catalog (``Dataset(..., catalog=True)``).

A table is registered in the catalog of the environment whose store holds it, on clouds
whose builder declares catalog tables (``CloudBuilder.catalog``); elsewhere ``catalog=True``
is refused, naming the clouds that have one.
"""

from __future__ import annotations

from glacier.dataset import Dataset
from glacier.errors import InfraError
from glacier.infra.builders import BUILDERS, builder_of
from glacier.infra.model.specs import CatalogEntry, Location
from glacier.infra.model.stores import Stores, storage_hint
from glacier.locations import Site, locate

__all__ = ["Catalog"]


class Catalog:
    """The datasets to register in a data catalog, by dataset name."""

    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        self.entries: dict[str, CatalogEntry] = {}

    def note(self, ds: Dataset, location: Location) -> None:
        """Register ``ds`` (stored at ``location``) if it asks for ``catalog=True``."""
        if not getattr(ds, "catalog", False) or ds.name in self.entries:
            return
        store = self.stores.stores[location.store]
        cloud = self.stores.index.envs[store.env].cloud
        builder = builder_of(cloud)
        if builder is None or not builder.catalog:
            raise InfraError(
                f"Dataset {ds.name!r} ({ds.declared_at}) asks for catalog=True, which "
                f"registers a Delta table in a data catalog, but it is stored on {cloud} "
                f"(environment {store.env!r}). Glacier declares no {cloud} catalog entry: "
                f"leave catalog out, or store the table {_where_catalogued()}."
            )
        where = locate(ds, Site(cloud, name=store.env))
        self.entries[ds.name] = CatalogEntry(ds.name, store.env, location, str(where.uri))


def _where_catalogued() -> str:
    """Where a catalogued table can be stored: each cloud with a catalog, and how."""
    clouds = [b for b in BUILDERS.values() if b.catalog]
    found = [f"on {b.cloud} ({storage_hint(b.cloud)}, {b.catalog_name})" for b in clouds]
    return " or ".join(found) or "on a cloud whose builder has a catalog"
