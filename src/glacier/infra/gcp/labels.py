"""GCP labels from Glacier's tags: lowercase, at most 63 characters, sanitized or refused.

GCP labels allow lowercase letters, digits, ``_`` and ``-`` (keys start with a letter), at
most 63 characters each and 64 labels on a resource. Tags written for AWS (``CostCenter =
"Data Team"``) are made labels by lowercasing and replacing other characters with ``_``;
what cannot be made a label without losing it is refused, naming the tag: a key that does
not start with a letter, two tags that become the same label, more than 64 labels. A value
longer than 63 characters is cut and suffixed with a hash of the whole (as physical names
are), so it stays distinct.

Example:
    >>> labels_of({"CostCenter": "Data Team", "glacier:pipeline": "daily.sales"}, "env 'prod'")
    {'costcenter': 'data_team', 'glacier_pipeline': 'daily_sales'}
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from glacier.errors import InfraError

__all__ = ["MAX_LABELS", "label_value", "labels_of"]

#: How many labels a GCP resource may carry.
MAX_LABELS = 64
_INVALID = re.compile(r"[^a-z0-9_-]")


def label_value(value: str) -> str:
    """``value`` as a label value: lowercase, ``[a-z0-9_-]``, at most 63 characters."""
    clean = _INVALID.sub("_", str(value).lower())
    if len(clean) <= 63:
        return clean
    return f"{clean[:54]}-{hashlib.sha1(str(value).encode()).hexdigest()[:8]}"


def labels_of(tags: Mapping[str, str], where: str) -> dict[str, str]:
    """``tags`` as GCP labels (see the module docs); ``where`` names their owner in errors."""
    out: dict[str, str] = {}
    origin: dict[str, str] = {}
    for key, value in tags.items():
        label = _INVALID.sub("_", str(key).lower())
        if not label or not label[0].isalpha() or len(label) > 63:
            raise InfraError(
                f"Tag {key!r} of {where} cannot be a GCP label key: a label key starts with a "
                "lowercase letter and has at most 63 letters, digits, '_' or '-'. Rename the "
                "tag (e.g. 'team' instead of '1team')."
            )
        if label in origin and origin[label] != key:
            raise InfraError(
                f"Tags {origin[label]!r} and {key!r} of {where} both become GCP label "
                f"{label!r} (labels are lowercase, other characters become '_'). Rename one."
            )
        origin[label] = str(key)
        out[label] = label_value(value)
    if len(out) > MAX_LABELS:
        raise InfraError(
            f"{where[0].upper()}{where[1:]} has {len(out)} tags, but a GCP resource carries at "
            f"most {MAX_LABELS} labels. Drop some tags."
        )
    return out
