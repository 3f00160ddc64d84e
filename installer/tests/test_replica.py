"""The read replica end to end on PostgreSQL, through real HTTP requests of the API.

A streaming replica is too heavy for the suite, so the `replica` alias is added as it would be
by DATABASE_REPLICA_URL (same settings as the primary, its own connection pool and sessions)
pointing at the test database: a replica without lag. Every query is recorded with the alias
whose connection ran it, which is exactly what the router decides. The database cache (the
default without Redis) holds the throttling counters, as in production.
"""

from __future__ import annotations

import contextlib
import copy
import io

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from accounts.models import ApiToken
from installer.db_router import PRIMARY, REPLICA, request_scope
from orders.models import Order
from orders.tests.factories import order_payload

URL = "/api/v1/order"


class QueryLog:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []

    def recorder(self, alias: str):
        def record(execute, sql, params, many, context):
            self.entries.append((alias, sql))
            return execute(sql, params, many, context)

        return record

    def clear(self) -> None:
        self.entries.clear()

    def on(self, alias: str, *, cache: bool = False) -> list[str]:
        """SQL run on `alias`; the cache table's queries only with cache=True."""
        return [sql for a, sql in self.entries if a == alias and ("installer_cache" in sql) == cache]

    def aliases(self) -> set[str]:
        return {a for a, _ in self.entries}


@pytest.fixture
def replica(settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the replica alias is a second PostgreSQL connection")
    # Django's test case refuses connections to aliases outside its `databases`; the alias is
    # added here, after the test case was set up, so it is allowed on that test case now.
    from django.db.backends.base.base import BaseDatabaseWrapper

    cells = [cell.cell_contents for cell in BaseDatabaseWrapper.ensure_connection.__closure__ or ()]
    for test_case in (c for c in cells if isinstance(c, type)):
        monkeypatch.setattr(test_case, "databases", {*test_case.databases, REPLICA})
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "installer_cache"}
    }
    from installer.apps import create_cache_tables

    create_cache_tables(sender=None, using=PRIMARY, verbosity=0)
    primary = connections[PRIMARY]
    replica_settings = copy.deepcopy(primary.settings_dict)
    replica_settings["TEST"] = {**replica_settings.get("TEST", {}), "MIRROR": PRIMARY}
    databases = connections.settings
    databases[REPLICA] = replica_settings
    settings.DATABASES[REPLICA] = replica_settings  # what has_replica() looks at
    log = QueryLog()
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(primary.execute_wrapper(log.recorder(PRIMARY)))
            stack.enter_context(connections[REPLICA].execute_wrapper(log.recorder(REPLICA)))
            yield log
    finally:
        replica_connection = connections[REPLICA]
        replica_connection.close()
        if hasattr(replica_connection, "close_pool"):
            replica_connection.close_pool()
        del connections[REPLICA]
        databases.pop(REPLICA, None)
        settings.DATABASES.pop(REPLICA, None)


def _split_at_first_write(entries):
    index = next(i for i, (_, sql) in enumerate(entries) if sql.lstrip().startswith(("UPDATE", "INSERT")))
    return entries[:index], entries[index], entries[index + 1 :]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_read_replica_end_to_end_over_http(operator_a, replica):
    # A write (POST): everything on the primary, also the reads after the INSERT.
    replica.clear()
    created = operator_a.post(URL, order_payload(name="Replica check"), format="json")
    assert created.status_code == 201, created.content
    order_id = created.json()["id"]
    assert replica.aliases() == {PRIMARY}
    before, write, after = _split_at_first_write(replica.entries)
    assert any(sql.lstrip().startswith("SELECT") for _, sql in after), "reads after the write"

    # GETs (the token's last_used_at is fresh, so nothing writes): every app read on the replica,
    # only the throttling counter (database cache) on the primary.
    for path, check in (
        (URL, lambda body: [o["id"] for o in body["values"]] == [order_id]),
        (f"{URL}/{order_id}", lambda body: body["name"] == "Replica check"),
    ):
        replica.clear()
        response = operator_a.get(path)
        assert response.status_code == 200 and check(response.json()), response.content
        assert replica.on(PRIMARY) == [], replica.on(PRIMARY)
        assert len(replica.on(REPLICA)) >= 2  # the token, then the order(s)
        assert replica.on(PRIMARY, cache=True) and replica.on(REPLICA, cache=True) == []

    # A GET that writes (a stale token's last_used_at): replica until the UPDATE, then the primary.
    ApiToken.objects.update(last_used_at=None)
    replica.clear()
    response = operator_a.get(f"{URL}/{order_id}")
    assert response.status_code == 200 and response.json()["id"] == order_id
    app = [(a, sql) for a, sql in replica.entries if "installer_cache" not in sql]
    before, write, after = _split_at_first_write(app)
    assert {a for a, _ in before} == {REPLICA} and "api" in write[1].lower() and write[0] == PRIMARY
    assert after and {a for a, _ in after} == {PRIMARY}  # the order is read from the primary

    # Cancel (POST): all on the primary, the row lock included.
    replica.clear()
    cancelled = operator_a.post(f"{URL}/{order_id}/cancel", {"reason": "other"}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == 6, cancelled.content
    assert replica.aliases() == {PRIMARY}
    assert any("FOR UPDATE" in sql for sql in replica.on(PRIMARY))

    # Inside a safe request's scope (what the middleware opens for GET): transaction.atomic()
    # and select_for_update() read the primary; select_for_update pins the rest of the request.
    with request_scope(may_use_replica=True):
        replica.clear()
        assert Order.objects.get(pk=order_id).status == 6
        assert replica.aliases() == {REPLICA}
        replica.clear()
        with transaction.atomic():
            Order.objects.get(pk=order_id)
        assert replica.aliases() == {PRIMARY}
        replica.clear()
        with transaction.atomic():
            Order.objects.select_for_update().get(pk=order_id)
        Order.objects.get(pk=order_id)
        assert replica.aliases() == {PRIMARY} and any("FOR UPDATE" in sql for sql in replica.on(PRIMARY))

    # Management commands and the background worker: the primary only.
    from django_tasks_db.models import DBTaskResult

    from webhooks import tasks

    replica.clear()
    call_command("webhooks_sweep", stdout=io.StringIO())
    assert replica.on(PRIMARY) and replica.aliases() == {PRIMARY}
    result = tasks.sweep.enqueue(reschedule=False)
    replica.clear()
    call_command("db_worker", "--batch", "--interval=0", "--no-startup-delay", "--queue-name=*", stdout=io.StringIO())
    assert DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL"
    assert replica.on(PRIMARY) and replica.aliases() == {PRIMARY}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_kept_list_count_lives_in_the_cache_and_does_not_pin(operator_a, replica, settings):
    """The kept count of a big list goes to the cache (a database cache's table is on the
    primary, and touching it does not pin the request); the list's own reads stay on the
    replica, and a second request within the timeout does not count again."""
    from django.core.cache import cache

    settings.LIST_COUNT_CACHE_SECONDS, settings.LIST_COUNT_CACHE_MIN = 60, 1
    cache.clear()
    for name in ("a", "b"):
        assert operator_a.post(URL, order_payload(name=name), format="json").status_code == 201
    replica.clear()
    response = operator_a.get(f"{URL}?pageSize=1")
    assert response.status_code == 200 and response.json()["count"] == 2, response.content
    on_primary = replica.on(PRIMARY)
    assert all("installer_cache" in sql for sql in on_primary), on_primary
    reads = replica.on(REPLICA)
    assert any("COUNT(" in sql for sql in reads), reads
    replica.clear()
    response = operator_a.get(f"{URL}?pageSize=1")
    assert response.status_code == 200 and response.json()["count"] == 2
    assert not any("COUNT(" in sql for sql in replica.on(REPLICA))
    cache.clear()
