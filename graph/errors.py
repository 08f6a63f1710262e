"""One exception tree for the whole project, each error classed by who can act on it.

Domain code raises these; only the HTTP app and the CLI translate them into status codes or exit
codes, so the mapping lives in one place each. What a caller learns depends on the class: a
`ClientError` is theirs to correct, so its reason and message are for them; `Unavailable` says
"retry later" and no more; anything else is a fault on our side (configuration, the query
catalog, a query the store refused), reported to the operator's log and not to the caller.
"""

from __future__ import annotations


class CkgError(Exception):
    """Root of every error ckg raises on purpose.

    Raised bare, it refuses what the caller asked for, as a usage error they can correct (the
    CLI's option checks, a lookup with neither e-mail nor phone). A subclass is a fault of ours
    unless it derives from `ClientError` or `Unavailable`.
    """

    reason = "ckg_error"


class ClientError(CkgError):
    """The request is at fault and the caller can correct it: they may read why."""

    reason = "bad_request"


class Unavailable(CkgError):
    """The store cannot serve now, through no fault of the request; retrying later may help.

    The detail (addresses, driver text) is for the operator: callers learn the reason only.
    """

    reason = "unavailable"


class ConfigError(CkgError):
    """The configuration cannot work (bad URI, unwritable directory, port taken)."""

    reason = "bad_configuration"


class StoreUnavailable(Unavailable):
    """The store cannot be reached or did not come up; retrying later may help."""

    reason = "store_unavailable"


class StoreAuthError(Unavailable):
    """The store refused our credentials."""

    reason = "store_auth_failed"


class LeaseLost(CkgError):
    """The writer lease expired while its holder still wrote (the process stalled past its
    time to live): another writer may have run alongside, so the work must be checked."""

    reason = "writer_lease_lost"


class QueryCatalogError(CkgError):
    """A named query is missing, duplicated or malformed in `cypher/`."""

    reason = "query_catalog"


class QueryError(CkgError):
    """The store rejected a query (syntax, constraint, read-only violation)."""

    reason = "query_failed"


class ParameterRefused(QueryError, ClientError):
    """A parameter value no query may carry (a NUL character, a non-finite number, a map key
    that cannot be quoted): refused before it is sent, and the caller's to correct."""

    reason = "query_failed"


class ReadOnlyViolation(QueryError):
    """A write was attempted through a read-only path."""

    reason = "read_only"


class NotFound(ClientError):
    """A requested entity does not exist."""

    reason = "not_found"


class CustomerNotFound(NotFound):
    reason = "customer_not_found"


class SessionNotFound(NotFound):
    reason = "session_not_found"


class ProductNotFound(NotFound):
    reason = "product_not_found"


class AnalystQueryNotFound(NotFound):
    reason = "analyst_query_not_found"
