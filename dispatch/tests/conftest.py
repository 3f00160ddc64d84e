"""Dispatch test helpers.

- API calls run their `transaction.on_commit` callbacks when the request returns, as they do in
  production (the test's outer transaction never commits): auto-dispatch and offer-expiry
  enqueueing happen for real.
- `clock` moves `timezone.now()` forward; `run_due_tasks()` runs the real db_worker loop once
  over the tasks that are due at the (moved) time.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from dispatch.models import CoverageArea, CoverageKind, Partnership
from orders.tests.factories import MembershipFactory, OrganizationFactory, make_token

committed = TestCase.captureOnCommitCallbacks


@pytest.fixture(autouse=True)
def _run_on_commit_after_requests(monkeypatch):
    original = APIClient.request

    def request(self, *args, **kwargs):
        with committed(execute=True):
            return original(self, *args, **kwargs)

    monkeypatch.setattr(APIClient, "request", request)


class Clock:
    def __init__(self, monkeypatch):
        self.offset = datetime.timedelta(0)
        real_now = timezone.now

        def now():
            return real_now() + self.offset

        self._real_now = real_now
        monkeypatch.setattr(timezone, "now", now)

    def advance(self, **delta) -> None:
        self.offset += datetime.timedelta(**delta)

    def now(self) -> datetime.datetime:
        return self._real_now() + self.offset


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def run_due_tasks(monkeypatch):
    """Runs the django-tasks-db worker in batch mode: every task due now, then it returns.
    (The worker closes stale connections between tasks; inside a test transaction that would
    drop the test's connection, so that call is a no-op here.)"""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run() -> int:
        from django_tasks_db.models import DBTaskResult

        before = DBTaskResult.objects.exclude(status="READY").count()
        with committed(execute=True):
            db_worker.Worker(
                queue_names=["*"],
                interval=0,
                batch=True,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id="test-worker",
                excluded_queue_names=[],
            ).run()
        return DBTaskResult.objects.exclude(status="READY").count() - before

    return run


def api_client_for(organization, name: str, role: str = Role.OPERATOR) -> APIClient:
    membership = MembershipFactory(organization=organization, role=role)
    client = APIClient()
    raw = make_token(membership, name=name)  # type: ignore[arg-type]  # the factory makes a Membership
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.org = organization  # type: ignore[attr-defined]
    client.membership = membership  # type: ignore[attr-defined]
    return client


def make_installer(name: str, *, base: tuple[float, float] | None = None, **fields):
    slug = name.lower().replace(" ", "-")
    if base is not None:
        fields.update(base_latitude=base[0], base_longitude=base[1])
    return OrganizationFactory(name=name, slug=slug, is_installer=True, **fields)


def make_partner(
    router,
    installer,
    *,
    coverage=(("range", "NO", "0100", "0999"),),
    priority: int = 100,
    capacity: int | None = None,
    skills=(),
    active: bool = True,
) -> Partnership:
    """coverage items: ("exact", country, code) | ("prefix", country, "03*") |
    ("range", country, start, end) | ("radius", km)."""
    partnership = Partnership.objects.create(
        router=router, installer=installer, priority=priority, capacity=capacity, skills=list(skills), active=active
    )
    for item in coverage:
        kind = item[0]
        if kind == CoverageKind.RADIUS:
            CoverageArea.objects.create(partnership=partnership, kind=kind, radius_km=item[1])
        elif kind == CoverageKind.RANGE:
            CoverageArea.objects.create(
                partnership=partnership, kind=kind, country_code=item[1], value=item[2], value_to=item[3]
            )
        else:
            CoverageArea.objects.create(partnership=partnership, kind=kind, country_code=item[1], value=item[2])
    return partnership
