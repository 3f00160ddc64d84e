"""installer.compiled.CompiledQuery: compiled once per thread, re-bound with each call's
arguments, and always the same answer as the ORM."""

from __future__ import annotations

import threading
import uuid
from unittest import mock

import pytest
from django.db.models.sql.compiler import SQLCompiler

from installer.compiled import _UNCACHEABLE, CompiledQuery
from orders import services
from orders.models import Order, TaggedOrder
from orders.tests.factories import create_order, make_installer_partner

pytestmark = pytest.mark.django_db


def by_org_and_id(organization_id, pk):
    return Order.objects.filter(organization_id=organization_id, pk=pk).select_related("workflow", "installer")


def count_compilations():
    return mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql)


def test_same_answer_as_the_orm_and_compiled_once(org_a, org_b, installer_org):
    make_installer_partner(org_a, installer_org)
    first = create_order(org_a, name="First")
    second = create_order(
        org_a, name="Second", actor_assignments=[{"actorSlug": "installer", "organizationId": str(installer_org.pk)}]
    )
    query = CompiledQuery(Order, by_org_and_id)
    query.fetch(org_a.pk, first.pk)  # compiles
    with count_compilations() as as_sql:
        got_first = query.fetch(org_a.pk, first.pk)
        got_second = query.fetch(org_a.pk, second.pk)
        other_org = query.fetch(org_b.pk, second.pk)
        unknown = query.fetch(org_a.pk, uuid.uuid4())
    assert as_sql.call_count == 0  # re-bound, never recompiled
    assert [o.name for o in got_first] == ["First"] and [o.name for o in got_second] == ["Second"]
    assert other_org == [] and unknown == []
    orm = by_org_and_id(org_a.pk, second.pk).get()
    got = got_second[0]
    assert {f.attname: getattr(got, f.attname) for f in Order._meta.concrete_fields} == {
        f.attname: getattr(orm, f.attname) for f in Order._meta.concrete_fields
    }
    # select_related objects are there, without a query
    assert Order.workflow.is_cached(got) and Order.installer.is_cached(got)
    assert got.installer == installer_org and got.workflow.custom_id == orm.workflow.custom_id
    assert Order.installer.is_cached(got_first[0]) and got_first[0].installer is None


def test_list_argument_compiled_per_length(org_a):
    orders = [create_order(org_a, name=f"O{i}") for i in range(4)]
    query = CompiledQuery(Order, lambda ids: Order.objects.filter(pk__in=ids).order_by("name"))
    assert [o.name for o in query.fetch([orders[0].pk, orders[2].pk], key=2)] == ["O0", "O2"]
    with count_compilations() as as_sql:
        assert [o.name for o in query.fetch([orders[3].pk, orders[1].pk], key=2)] == ["O1", "O3"]
    assert as_sql.call_count == 0
    assert [o.name for o in query.fetch([o.pk for o in orders], key=4)] == ["O0", "O1", "O2", "O3"]


def test_values_list_and_union(org_a):
    tags = services.order_tags_create(organization=org_a, names=["red", "blue"])
    order = create_order(org_a, order_tag_ids=[str(t.pk) for t in tags])
    query = CompiledQuery(
        TaggedOrder,
        lambda ids: (
            TaggedOrder.objects.filter(content_object_id__in=ids)
            .order_by()
            .values_list("tag__name")
            .union(TaggedOrder.objects.filter(content_object_id__in=ids).order_by().values_list("tag__name"), all=True)
        ),
    )
    assert sorted(query.fetch([order.pk], key=1)) == [("blue",), ("blue",), ("red",), ("red",)]
    assert query.fetch([uuid.uuid4()], key=1) == []


def test_an_argument_the_orm_transforms_is_not_cached_but_still_right(org_a):
    create_order(org_a, name="Alpha")
    create_order(org_a, name="Beta")
    query = CompiledQuery(Order, lambda name: Order.objects.filter(name__icontains=name).order_by("name"))
    assert [o.name for o in query.fetch("alp")] == ["Alpha"]
    assert [o.name for o in query.fetch("bet")] == ["Beta"]  # not the first call's SQL again
    assert [o.name for o in query.fetch("a")] == ["Alpha", "Beta"]


def test_an_argument_used_as_is_and_transformed_is_not_cached(org_a):
    """One argument compared as it is (display id) and as a LIKE pattern (name), as List
    Orders' `q` does: the pattern would be kept with the sentinel in it, so it is not cached."""
    from django.db.models import Q

    create_order(org_a, name="Alpha job")
    create_order(org_a, name="Beta job")
    query = CompiledQuery(
        Order,
        lambda text: Order.objects.filter(Q(display_id__iexact=text) | Q(name__icontains=text)).order_by("name"),
    )
    assert [o.name for o in query.fetch("job")] == ["Alpha job", "Beta job"]
    assert [o.name for o in query.fetch("beta")] == ["Beta job"]
    assert query._local.entries[("default", None)] is _UNCACHEABLE  # noqa: SLF001


@pytest.mark.django_db(transaction=True)
def test_each_thread_compiles_its_own(org_a):
    order = create_order(org_a, name="Threaded")
    query = CompiledQuery(Order, lambda pk: Order.objects.filter(pk=pk))
    assert query.fetch(order.pk)[0].name == "Threaded"
    seen = []

    def other_thread():
        from django.db import connection

        try:
            with count_compilations() as as_sql:
                seen.append(([o.name for o in query.fetch(order.pk)], as_sql.call_count))
        finally:
            connection.close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    # The other thread has its own connection: it compiles its own query rather than reuse ours.
    assert seen == [(["Threaded"], 1)]


def test_tokens_after_the_lookup_was_compiled(operator_a, operator_b):
    from django.utils import timezone

    from orders.models import ApiToken, hash_token

    assert operator_a.get("/api/v1/me").json()["organization"]["id"] == str(operator_a.org.pk)  # compiles
    assert operator_b.get("/api/v1/me").json()["organization"]["id"] == str(operator_b.org.pk)  # re-bound
    ApiToken.objects.filter(key_hash=hash_token(operator_a.token)).update(revoked_at=timezone.now())
    assert operator_a.get("/api/v1/me").status_code == 401
    operator_a.credentials(HTTP_AUTHORIZATION="Bearer ins_nonsense")
    assert operator_a.get("/api/v1/me").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_select_for_update_needs_a_transaction(org_a):
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    order = create_order(org_a, name="Locked")
    query = CompiledQuery(Order, lambda pk: Order.objects.select_for_update().filter(pk=pk))
    with transaction.atomic():
        assert query.fetch(order.pk, write=True)[0].name == "Locked"
    with pytest.raises(TransactionManagementError):
        query.fetch(order.pk, write=True)


def test_kept_queries_are_bounded_per_thread(org_a):
    orders = [create_order(org_a, name=f"O{i}") for i in range(3)]
    query = CompiledQuery(Order, lambda ids: Order.objects.filter(pk__in=ids).order_by("name"))
    query.max_entries = 4
    for length in range(1, 40):  # a client choosing every page size
        ids = [orders[i % 3].pk for i in range(length)]
        assert {o.name for o in query.fetch(ids, key=length)} == {o.name for o in orders[: min(length, 3)]}
    assert len(query._local.entries) == 4
    assert [key for _, key in query._local.entries] == [36, 37, 38, 39]  # the most recent
