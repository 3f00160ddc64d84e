"""The token lookup's fast path (`token_by_hash`) answers what the ORM version answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.api.authentication import token_by_hash, token_by_hash_orm
from accounts.models import ApiToken, hash_token
from orders.tests.factories import MembershipFactory, OrganizationFactory, make_token

pytestmark = pytest.mark.django_db


def _values(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def _same(fast, orm):
    assert type(fast) is type(orm)
    assert _values(fast) == _values(orm)
    assert fast._state.adding is False and fast._state.db == orm._state.db


@pytest.mark.postgres
@pytest.mark.parametrize("installer", [False, True])
def test_fast_lookup_loads_what_the_orm_loads(installer):
    org = OrganizationFactory(is_installer=installer, time_zone="Europe/Oslo")
    membership = MembershipFactory(organization=org)
    raw = make_token(membership, name="erp")
    ApiToken.objects.filter(membership=membership).update(
        last_used_at=timezone.now(), expires_at=timezone.now() + timedelta(days=3)
    )
    key_hash = hash_token(raw)
    with CaptureQueriesContext(connection) as queries:
        fast = token_by_hash(key_hash)
    assert len(queries) == 1
    orm = token_by_hash_orm(key_hash)
    assert fast is not None and orm is not None
    _same(fast, orm)
    _same(fast.membership, orm.membership)
    _same(fast.membership.user, orm.membership.user)
    _same(fast.membership.organization, orm.membership.organization)
    # The relations are loaded: reading them queries nothing.
    with CaptureQueriesContext(connection) as queries:
        assert fast.membership.organization.time_zone == "Europe/Oslo"
        assert fast.membership.user.username == membership.user.username
    assert len(queries) == 0


def test_unknown_hash_is_none_on_both_paths():
    assert token_by_hash(hash_token("ins_nope")) is None
    assert token_by_hash_orm(hash_token("ins_nope")) is None


def test_a_revoked_token_is_refused_at_once(client):
    membership = MembershipFactory(organization=OrganizationFactory())
    raw = make_token(membership)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/v1/me", **headers).status_code == 200
    ApiToken.objects.filter(membership=membership).update(revoked_at=timezone.now())
    assert client.get("/api/v1/me", **headers).status_code == 401
