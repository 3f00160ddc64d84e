"""The order state machine: one table of allowed moves. Pure; no database access."""

from __future__ import annotations

from orders.models import OrderStatus as S

ALLOWED: dict[int, frozenset[int]] = {
    S.CREATED: frozenset({S.DISPATCHING, S.CANCELLED}),
    # dispatching -> dispatching is a re-dispatch (new offers) and keeps the status.
    S.DISPATCHING: frozenset({S.DISPATCHING, S.SCHEDULED, S.DECLINED, S.CANCELLED}),
    # scheduled -> scheduled is a reschedule; scheduled -> dispatching an unbook.
    S.SCHEDULED: frozenset({S.SCHEDULED, S.DISPATCHING, S.IN_PROGRESS, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.DECLINED: frozenset({S.DISPATCHING, S.CANCELLED}),
    S.CANCELLED: frozenset(),
}

TERMINAL = frozenset({S.COMPLETED, S.CANCELLED})
CANCELLABLE = frozenset(s for s, targets in ALLOWED.items() if S.CANCELLED in targets)


def can_transition(from_status: int, to_status: int) -> bool:
    return to_status in ALLOWED.get(from_status, frozenset())


def deletable(status: int, test: bool) -> bool:
    """An order may be deleted (soft) while it is still created, or in any status if it is a
    test order."""
    return test or status == S.CREATED


# The statuses an order passes through when all goes well, in order (`declined` and
# `cancelled` are off it).
PATH: tuple[int, ...] = (
    S.CREATED,
    S.DISPATCHING,
    S.SCHEDULED,
    S.IN_PROGRESS,
    S.COMPLETED,
)


def passed(step_status: int, order_status: int) -> bool:
    """Whether an order in `order_status` is past a step of `step_status` on the PATH."""
    return step_status in PATH and order_status in PATH and PATH.index(step_status) < PATH.index(order_status)
