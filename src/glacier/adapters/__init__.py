"""Cloud adapters: the only code that knows how each cloud does a thing.

Adapters are wired by :class:`glacier.containers.CloudContainer`; a resource asks its provider
for ``<kind>_adapter`` and calls it. Swap or extend one by overriding that container provider.
"""
