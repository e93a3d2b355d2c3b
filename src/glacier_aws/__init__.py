"""Compatibility names from Glacier's early design notes: ``from glacier_aws import ...``.

Everything lives in :mod:`glacier`; these are the same objects.
"""

from glacier.environment import AWSEnvironment

#: The seeds' ``Environment(account=..., region=..., name=...)`` is an ``AWSEnvironment``.
Environment = AWSEnvironment

__all__ = ["AWSEnvironment", "Environment"]
