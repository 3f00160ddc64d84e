"""Test helpers: put orders into any status through the real transition service; read the
connection's prepared statements (PostgreSQL)."""

from __future__ import annotations

from django.db import connection, transaction

from orders import services
from orders.actors import Actor
from orders.models import Order, OrderStatus

# The shortest allowed path from created to each status.
PATHS: dict[int, list[int]] = {
    OrderStatus.CREATED: [],
    OrderStatus.DISPATCHING: [OrderStatus.DISPATCHING],
    OrderStatus.SCHEDULED: [OrderStatus.DISPATCHING, OrderStatus.SCHEDULED],
    OrderStatus.IN_PROGRESS: [OrderStatus.DISPATCHING, OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS],
    OrderStatus.COMPLETED: [
        OrderStatus.DISPATCHING,
        OrderStatus.SCHEDULED,
        OrderStatus.IN_PROGRESS,
        OrderStatus.COMPLETED,
    ],
    OrderStatus.DECLINED: [OrderStatus.DISPATCHING, OrderStatus.DECLINED],
    OrderStatus.CANCELLED: [OrderStatus.CANCELLED],
}


def move_to(order: Order, status: int) -> Order:
    """Walks a created order along PATHS[status] with lock_order + transition, one transaction."""
    actor = Actor.system("test")
    with transaction.atomic():
        locked = services.lock_order(order.pk)
        pending = services.PendingEvents(locked)
        for target in PATHS[status]:
            services.transition(
                locked, target, actor=actor, event_type=f"test.to_{target}", pending=pending, enforce_steps=False
            )
        services.finish_change(locked, pending)
    locked.refresh_from_db()
    return locked


def prepared_statements(fragment: str = "") -> list[tuple[str, int, int]]:
    """The statements this connection keeps prepared whose SQL contains `fragment`, each with
    how often it ran on a generic plan and on a plan made for its values (PostgreSQL's
    `pg_prepared_statements`, which shows the session's own)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{fragment}%"],
        )
        return cursor.fetchall()
