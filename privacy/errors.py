"""The privacy room's errors, each classed by who can act on it (graph/errors.py)."""

from __future__ import annotations

from graph.errors import CkgError, ClientError, NotFound


class ErasedSubject(ClientError):
    """The subject was erased and stays so: nothing is stored for it until an admin lifts its
    suppression."""

    reason = "erased_subject"


class SuppressionNotFound(NotFound):
    """No suppression in force for the subject: it was never erased, or it was lifted."""

    reason = "suppression_not_found"


class ErasureIncomplete(CkgError):
    """The verification query found data of an erased subject; the receipt says unverified."""

    reason = "erasure_unverified"
