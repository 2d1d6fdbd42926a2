"""Store locations as users write them: which are database URLs (:func:`is_url`), which schemes
are refused, and a location with its password hidden for messages (:func:`redact`). Imported by
the backends package and by the backends themselves; it imports none of them.
"""

from __future__ import annotations

import re

__all__ = ["UNSUPPORTED_SCHEMES", "URL_SCHEMES", "is_url", "redact"]

URL_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg2://", "postgresql+psycopg://",
               "postgresql+psycopg2cffi://", "sqlite:///")
UNSUPPORTED_SCHEMES = ("mysql://", "mysql+", "mariadb://", "oracle://", "mssql://", "redis://")


def is_url(location: str) -> bool:
    """Whether ``location`` names a database server (or an SQLite file URL), not a directory."""
    return location.startswith(URL_SCHEMES) or location.startswith(UNSUPPORTED_SCHEMES)


def redact(location: str) -> str:
    """``location`` with any password replaced by ``***`` (for messages)."""
    return re.sub(r"(://[^:/@]+:)[^@/]*@", r"\1***@", location)
