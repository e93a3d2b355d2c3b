"""The config classes under the name the design notes use: ``from glacier.config import ...``.

The same objects as :mod:`glacier.settings`; this module only re-exports them.

Example:
    >>> from glacier.config import AwsConfig, S3Config
    >>> from glacier.settings import AwsConfig as Same
    >>> AwsConfig is Same
    True
"""

from glacier.settings import *  # noqa: F403
from glacier.settings import __all__ as __all__
