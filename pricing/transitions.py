"""The quote state machine: one table of (status, action) → status. Pure; no database access.

    draft --send--> sent --accept--> accepted
      |               |--reject--> rejected
      +--withdraw-----+--withdraw--> withdrawn

Every other (status, action) pair is refused (QuoteConflict, 409). accepted, rejected and
withdrawn are final.
"""

from __future__ import annotations

from pricing.models import QuoteStatus as Q

ACTIONS = ("send", "withdraw", "accept", "reject")

ALLOWED: dict[tuple[str, str], str] = {
    (Q.DRAFT, "send"): Q.SENT,
    (Q.DRAFT, "withdraw"): Q.WITHDRAWN,
    (Q.SENT, "withdraw"): Q.WITHDRAWN,
    (Q.SENT, "accept"): Q.ACCEPTED,
    (Q.SENT, "reject"): Q.REJECTED,
}

FINAL = frozenset({Q.ACCEPTED, Q.REJECTED, Q.WITHDRAWN})
OPEN = frozenset({Q.DRAFT, Q.SENT})


def next_status(status: str, action: str) -> str | None:
    """The status `action` leads to from `status`, or None when the table forbids it."""
    return ALLOWED.get((status, action))
