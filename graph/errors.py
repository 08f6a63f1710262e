"""One exception tree for the whole project.

Domain code raises these; only the HTTP routes and the CLI translate them into status codes or
exit codes, so the mapping lives in one place each.
"""

from __future__ import annotations


class CkgError(Exception):
    """Root of every error ckg raises on purpose."""

    reason = "ckg_error"


class ConfigError(CkgError):
    """The configuration cannot work (bad URI, unwritable directory, port taken)."""

    reason = "bad_configuration"


class StoreUnavailable(CkgError):
    """The store cannot be reached or did not come up; retrying later may help."""

    reason = "store_unavailable"


class StoreAuthError(CkgError):
    """The store refused our credentials."""

    reason = "store_auth_failed"


class QueryCatalogError(CkgError):
    """A named query is missing, duplicated or malformed in `cypher/`."""

    reason = "query_catalog"


class QueryError(CkgError):
    """The store rejected a query (syntax, constraint, read-only violation)."""

    reason = "query_failed"


class ReadOnlyViolation(QueryError):
    """A write was attempted through a read-only path."""

    reason = "read_only"


class NotFound(CkgError):
    """A requested entity does not exist."""

    reason = "not_found"


class CustomerNotFound(NotFound):
    reason = "customer_not_found"


class SessionNotFound(NotFound):
    reason = "session_not_found"


class ProductNotFound(NotFound):
    reason = "product_not_found"
