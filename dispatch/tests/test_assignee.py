"""The job's assignee (order_assign, PUT /api/v1/order/{id}/assignee) and what a technician's
token reads and does: only the jobs assigned to it."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from dispatch import services
from dispatch.exceptions import Conflict, Forbidden, InvalidInput, NotFound
from dispatch.models import Offer
from dispatch.tests.conftest import api_client_for, make_installer, make_partner
from orders.actors import Actor
from orders.models import Order, OrderEvent
from orders.tests.factories import MembershipFactory, UserFactory, create_order, order_payload
from webhooks.models import WEBHOOK_EVENTS, WebhookDelivery
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


def assigned_order(router, installer):
    """A dispatching order whose installer accepted the offer."""
    order = create_order(router)
    services.order_dispatch(order_id=order.pk, organization=router, actor=ACTOR)
    offer = Offer.objects.get(order=order, installer=installer)
    services.offer_accept(offer_id=offer.pk, installer=installer, actor=ACTOR)
    return Order.objects.get(pk=order.pk)


def technician_of(installer, username="tech"):
    user = UserFactory(username=username, first_name="Kari", last_name="Tekniker", is_staff=False)
    MembershipFactory(user=user, organization=installer, role=Role.TECHNICIAN)
    return user


def technician_client(installer, user):
    from rest_framework.test import APIClient

    from accounts.models import Membership
    from orders.tests.factories import make_token

    membership = Membership.objects.get(user=user, organization=installer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(membership, name='tech-phone')}")
    return client


@pytest.fixture
def setup(org_a, installer_org):
    make_partner(org_a, installer_org)
    return org_a, installer_org


# --------------------------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------------------------


def test_assign_sets_the_assignee_with_event_and_webhook(setup):
    router, installer = setup
    endpoint, _ = endpoint_create(organization=router, url="https://hooks.example.com/in")
    order = assigned_order(router, installer)
    tech = technician_of(installer)

    result = services.order_assign(
        order_id=order.pk, organization=installer, actor=ACTOR, role=Role.OPERATOR, assignee=tech
    )

    assert result.assignee_id == tech.pk
    assert Order.objects.get(pk=order.pk).assignee_id == tech.pk
    event = OrderEvent.objects.get(order=order, type="order.assignee_changed")
    assert event.data == {"assignee": {"id": str(tech.pk), "name": "Kari Tekniker"}, "previous": None}
    assert event.from_status == event.to_status == order.status
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event=event)
    assert delivery.event_type == "order.assignee_changed"
    assert delivery.data["assignee"] == {"id": str(tech.pk), "name": "Kari Tekniker"}
    assert "order.assignee_changed" in WEBHOOK_EVENTS

    # Another member replaces it: `previous` names the one before; clearing names it too.
    admin = UserFactory(username="partner-admin")
    MembershipFactory(user=admin, organization=installer, role=Role.ADMIN)
    services.order_assign(order_id=order.pk, organization=installer, actor=ACTOR, role=Role.ADMIN, assignee=admin)
    services.order_assign(order_id=order.pk, organization=installer, actor=ACTOR, role=Role.ADMIN, assignee=None)
    changes = [
        e.data for e in OrderEvent.objects.filter(order=order, type="order.assignee_changed").order_by("sequence")
    ]
    assert changes[1] == {
        "assignee": {"id": str(admin.pk), "name": "partner-admin"},
        "previous": {"id": str(tech.pk), "name": "Kari Tekniker"},
    }
    assert changes[2] == {"assignee": None, "previous": {"id": str(admin.pk), "name": "partner-admin"}}
    assert Order.objects.get(pk=order.pk).assignee_id is None


def test_assign_unchanged_is_a_no_op(setup):
    router, installer = setup
    order = assigned_order(router, installer)
    tech = technician_of(installer)
    services.order_assign(order_id=order.pk, organization=installer, actor=ACTOR, role=Role.OPERATOR, assignee=tech)
    services.order_assign(order_id=order.pk, organization=installer, actor=ACTOR, role=Role.OPERATOR, assignee=tech)
    services.order_assign(order_id=order.pk, organization=installer, actor=ACTOR, role=Role.OPERATOR, assignee=None)
    services.order_assign(order_id=order.pk, organization=installer, actor=ACTOR, role=Role.OPERATOR, assignee=None)
    assert OrderEvent.objects.filter(order=order, type="order.assignee_changed").count() == 2


def test_timeline_and_webhook_roll_back_with_the_change(setup):
    router, installer = setup
    endpoint_create(organization=router, url="https://hooks.example.com/in")
    order = assigned_order(router, installer)
    tech = technician_of(installer)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.order_assign(order_id=order.pk, organization=installer, actor=ACTOR, role=Role.OPERATOR, assignee=tech)
        assert WebhookDelivery.objects.filter(event_type="order.assignee_changed").count() == 1
        raise RuntimeError("the caller's transaction fails")
    assert Order.objects.get(pk=order.pk).assignee_id is None
    assert not OrderEvent.objects.filter(order=order, type="order.assignee_changed").exists()
    assert not WebhookDelivery.objects.filter(event_type="order.assignee_changed").exists()


def test_assignee_must_work_jobs_in_the_installer(setup, org_b):
    router, installer = setup
    order = assigned_order(router, installer)
    stranger = UserFactory(username="stranger")
    other_installer_tech = technician_of(make_installer("Other Co"), "other-tech")
    viewer = UserFactory(username="viewer")
    MembershipFactory(user=viewer, organization=installer, role=Role.VIEWER)
    router_member = UserFactory(username="router-op")
    MembershipFactory(user=router_member, organization=router, role=Role.OPERATOR)
    inactive = technician_of(installer, "gone")
    inactive.is_active = False
    inactive.save()
    for user in (stranger, other_installer_tech, viewer, router_member, inactive):
        with pytest.raises(InvalidInput) as error:
            services.order_assign(
                order_id=order.pk, organization=installer, actor=ACTOR, role=Role.OPERATOR, assignee=user
            )
        assert "userId" in error.value.details
    assert not OrderEvent.objects.filter(order=order, type="order.assignee_changed").exists()


def test_only_the_installers_admins_and_operators_assign(setup):
    router, installer = setup
    order = assigned_order(router, installer)
    tech = technician_of(installer)
    for role in (Role.TECHNICIAN, Role.VIEWER):
        with pytest.raises(Forbidden):
            services.order_assign(order_id=order.pk, organization=installer, actor=ACTOR, role=role, assignee=tech)
    for organization in (router, make_installer("Other Co")):
        with pytest.raises(NotFound):
            services.order_assign(
                order_id=order.pk, organization=organization, actor=ACTOR, role=Role.ADMIN, assignee=tech
            )


def test_no_assignee_change_once_completed_or_cancelled(setup):
    router, installer = setup
    order = assigned_order(router, installer)
    tech = technician_of(installer)
    from orders import services as order_services

    order_services.order_cancel(order_id=order.pk, organization=router, actor=ACTOR)
    with pytest.raises(Conflict):
        services.order_assign(order_id=order.pk, organization=installer, actor=ACTOR, role=Role.OPERATOR, assignee=tech)


def test_dispatching_again_clears_the_assignee(operator_a, org_a, installer_org):
    """A pre-assigned order the installer has put a technician on, dispatched by the router to
    another installer: the technician no longer has the job, in the same change."""
    make_partner(org_a, installer_org)
    other = make_installer("Second Co")
    make_partner(org_a, other)
    body = order_payload(actorAssignments=[{"actorSlug": "installer", "organizationId": str(installer_org.pk)}])
    order_id = operator_a.post("/api/v1/order", body, format="json").json()["id"]
    tech = technician_of(installer_org)
    services.order_assign(order_id=order_id, organization=installer_org, actor=ACTOR, role=Role.ADMIN, assignee=tech)

    services.order_dispatch(order_id=order_id, organization=org_a, actor=ACTOR, installer_id=other.pk)

    assert Order.objects.get(pk=order_id).assignee_id is None
    types = list(OrderEvent.objects.filter(order_id=order_id).order_by("sequence").values_list("type", "data"))
    cleared = [data for kind, data in types if kind == "order.assignee_changed"][-1]
    assert cleared == {"assignee": None, "previous": {"id": str(tech.pk), "name": "Kari Tekniker"}}
    # The clearing event comes with the dispatch (the same change), before its offers.
    kinds = [kind for kind, _ in types]
    assert kinds.index("order.dispatched") > len(kinds) - 4


# --------------------------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------------------------


def test_put_assignee_as_the_installer(setup, installer_client, operator_a):
    router, installer = setup
    order = assigned_order(router, installer)
    tech = technician_of(installer)
    url = f"/api/v1/order/{order.pk}/assignee"

    response = installer_client.put(url, {"userId": str(tech.pk)}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["assignee"] == {"id": str(tech.pk), "name": "Kari Tekniker"}
    assert "assign" in response.json()["allowedActions"]
    # The router sees who is on the job.
    assert operator_a.get(f"/api/v1/order/{order.pk}").json()["assignee"] == {
        "id": str(tech.pk),
        "name": "Kari Tekniker",
    }
    events = operator_a.get(f"/api/v1/order/{order.pk}/events").json()["values"]
    assert events[-1]["type"] == "order.assignee_changed"
    assert events[-1]["actor"]["label"] == "installer-app"

    response = installer_client.put(url, {"userId": None}, format="json")
    assert response.status_code == 200 and response.json()["assignee"] is None


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "userId"),
        ({"userId": ""}, "userId"),
        ({"userId": "abc"}, "userId"),
        ({"userId": "99999999999999999999999"}, "userId"),
        ({"userId": "987654"}, "userId"),  # nobody
        ([], "nonFieldErrors"),
    ],
)
def test_put_assignee_bad_input_is_a_400(setup, installer_client, body, field):
    router, installer = setup
    order = assigned_order(router, installer)
    response = installer_client.put(f"/api/v1/order/{order.pk}/assignee", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["statusCode"] == 400 and field in response.json()["details"]


def test_put_assignee_non_member_is_a_400(setup, installer_client):
    router, installer = setup
    order = assigned_order(router, installer)
    stranger = UserFactory(username="stranger")
    response = installer_client.put(f"/api/v1/order/{order.pk}/assignee", {"userId": stranger.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["details"]["userId"]
    assert Order.objects.get(pk=order.pk).assignee_id is None


def test_put_assignee_refused_to_router_other_installer_and_low_roles(setup, operator_a, operator_b):
    router, installer = setup
    order = assigned_order(router, installer)
    tech = technician_of(installer)
    url = f"/api/v1/order/{order.pk}/assignee"
    body = {"userId": str(tech.pk)}
    other_installer = api_client_for(make_installer("Other Co"), "other-installer")
    for client in (operator_a, operator_b, other_installer):
        response = client.put(url, body, format="json")
        assert response.status_code == 404, response.content
        assert response.json()["error"] == "Not Found"
    viewer = api_client_for(installer, "installer-viewer", role=Role.VIEWER)
    assert viewer.put(url, body, format="json").status_code == 403
    assert technician_client(installer, tech).put(url, body, format="json").status_code == 403
    assert Order.objects.get(pk=order.pk).assignee_id is None


def test_assignee_hidden_from_an_installer_with_only_an_offer(org_a, installer_org, installer_client):
    """Broadcast to two installers; one accepts and assigns. The other never held the job, and
    reads no assignee (it no longer reads the order at all once its offer is withdrawn)."""
    make_partner(org_a, installer_org)
    order = create_order(org_a)
    services.order_dispatch(order_id=order.pk, organization=org_a, actor=ACTOR)
    seen = installer_client.get(f"/api/v1/order/{order.pk}").json()
    assert seen["assignee"] is None and seen["contactPersonName"] is None
    # And as the assigned installer with nobody assigned: present, null.
    offer = Offer.objects.get(order=order)
    services.offer_accept(offer_id=offer.pk, installer=installer_org, actor=ACTOR)
    assert installer_client.get(f"/api/v1/order/{order.pk}").json()["assignee"] is None


def test_assignee_hidden_from_other_installer_viewer(setup):
    """order_to_dict hides the assignee, like the customer's contact, from an installer that is
    not the order's installer."""
    from orders.api.presenters import order_to_dict
    from orders.selectors import Viewer, order_get

    router, installer = setup
    order = assigned_order(router, installer)
    tech = technician_of(installer)
    services.order_assign(order_id=order.pk, organization=installer, actor=ACTOR, role=Role.ADMIN, assignee=tech)
    loaded = order_get(Viewer(organization=router), order.pk)
    other = make_installer("Other Co")
    assert order_to_dict(loaded, Viewer(organization=other))["assignee"] is None
    assert order_to_dict(loaded, Viewer(organization=installer))["assignee"]["id"] == str(tech.pk)
    assert order_to_dict(loaded, Viewer(organization=router))["assignee"]["id"] == str(tech.pk)


# --------------------------------------------------------------------------------------------
# A technician's token
# --------------------------------------------------------------------------------------------


def count_queries(call) -> int:
    call()  # warm up: the first request of a token writes its last_used_at
    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def test_technician_token_reads_only_its_jobs(setup, installer_client):
    router, installer = setup
    tech = technician_of(installer)
    mine = assigned_order(router, installer)
    not_mine = assigned_order(router, installer)
    colleague = technician_of(installer, "colleague")
    services.order_assign(order_id=mine.pk, organization=installer, actor=ACTOR, role=Role.ADMIN, assignee=tech)
    services.order_assign(
        order_id=not_mine.pk, organization=installer, actor=ACTOR, role=Role.ADMIN, assignee=colleague
    )
    open_offer = create_order(router)
    services.order_dispatch(order_id=open_offer.pk, organization=router, actor=ACTOR)
    client = technician_client(installer, tech)

    listed = client.get("/api/v1/order").json()
    assert [o["id"] for o in listed["values"]] == [str(mine.pk)] and listed["count"] == 1
    # The partner's dispatcher reads all three.
    assert installer_client.get("/api/v1/order").json()["count"] == 3
    got = client.get(f"/api/v1/order/{mine.pk}").json()
    assert got["assignee"] == {"id": str(tech.pk), "name": "Kari Tekniker"}
    assert got["contactPersonName"] == "Ola Nordmann"
    assert set(got["allowedActions"]) == {"book", "completeStep"}  # no assign, accept, cancel
    assert client.get(f"/api/v1/order/{mine.pk}/events").status_code == 200
    for other in (not_mine, open_offer):
        for path in ("", "/events"):
            response = client.get(f"/api/v1/order/{other.pk}{path}")
            assert response.status_code == 404, (path, response.content)
    # No offers, no assigning, no router verbs.
    assert client.get("/api/v1/offers").status_code == 403
    offer = Offer.objects.get(order=open_offer)
    assert client.post(f"/api/v1/offers/{offer.pk}/accept").status_code == 403
    assert client.post("/api/v1/order", order_payload(), format="json").status_code == 403
    assert client.get("/api/v1/webhooks").status_code == 403
    assert client.get("/api/v1/me").json()["role"] == "technician"


def test_technician_works_its_job_and_not_others(setup, org_a):
    router, installer = setup
    tech = technician_of(installer)
    mine = assigned_order(router, installer)
    not_mine = assigned_order(router, installer)
    services.order_assign(order_id=mine.pk, organization=installer, actor=ACTOR, role=Role.ADMIN, assignee=tech)
    client = technician_client(installer, tech)
    start = (timezone.now() + datetime.timedelta(days=2)).isoformat()
    end = (timezone.now() + datetime.timedelta(days=2, hours=2)).isoformat()
    booking = {"startAt": start, "endAt": end}

    response = client.put(f"/api/v1/order/{not_mine.pk}/booking", booking, format="json")
    assert response.status_code == 404
    response = client.put(f"/api/v1/order/{mine.pk}/booking", booking, format="json")
    assert response.status_code == 200, response.content
    assert client.post(f"/api/v1/order/{mine.pk}/start").json()["statusName"] == "in_progress"
    step = client.get(f"/api/v1/order/{mine.pk}").json()["currentStep"]
    if step is not None:
        completed = client.post(f"/api/v1/order/{mine.pk}/steps/{step['key']}/complete")
        assert completed.status_code == 200, completed.content
    response = client.post(f"/api/v1/order/{mine.pk}/complete", {"comment": "Done"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["statusName"] == "completed"
    assert client.post(f"/api/v1/order/{not_mine.pk}/cancel").status_code == 403
    assert Order.objects.get(pk=not_mine.pk).status == not_mine.status


def test_technician_step_completion_checks_the_assignment_under_the_lock(setup):
    from orders import services as order_services

    router, installer = setup
    tech = technician_of(installer)
    order = assigned_order(router, installer)
    step = order.current_step
    assert step is not None
    with pytest.raises(NotFound):
        order_services.workflow_step_complete(
            order_id=order.pk, organization=None, step_key=step.key, actor=ACTOR, technician_id=tech.pk
        )
    with pytest.raises(NotFound):
        services.order_unbook(order_id=order.pk, organization=installer, actor=ACTOR, technician_id=tech.pk)


def test_technician_files_are_those_of_its_jobs(setup):
    from orders.models import File
    from orders.selectors import Viewer, files_visible_to

    router, installer = setup
    tech = technician_of(installer)
    mine = assigned_order(router, installer)
    not_mine = assigned_order(router, installer)
    services.order_assign(order_id=mine.pk, organization=installer, actor=ACTOR, role=Role.ADMIN, assignee=tech)

    def file(order, org, name):
        return File.objects.create(
            organization=org, order=order, storage_key=name, name=name, content_type="image/png", size=1, sha256="x"
        )

    on_mine = file(mine, router, "mine.png")
    file(not_mine, router, "other.png")
    file(None, router, "router-loose.png")
    loose = file(None, installer, "upload.png")
    viewer = Viewer(organization=installer, role=Role.TECHNICIAN, user_id=tech.pk)
    assert set(files_visible_to(viewer)) == {on_mine, loose}
    client = technician_client(installer, tech)
    assert client.get(f"/api/v1/file/{on_mine.pk}").status_code == 200
    other = File.objects.get(name="other.png")
    assert client.get(f"/api/v1/file/{other.pk}").status_code == 404


def test_technician_list_query_count_is_constant(setup, installer_client):
    router, installer = setup
    tech = technician_of(installer)
    client = technician_client(installer, tech)

    def add_jobs(n):
        for _ in range(n):
            order = assigned_order(router, installer)
            services.order_assign(
                order_id=order.pk, organization=installer, actor=ACTOR, role=Role.ADMIN, assignee=tech
            )

    add_jobs(1)
    one = count_queries(lambda: client.get("/api/v1/order"))
    partner_one = count_queries(lambda: installer_client.get("/api/v1/order"))
    add_jobs(49)
    many = count_queries(lambda: client.get("/api/v1/order?pageSize=100"))
    partner_many = count_queries(lambda: installer_client.get("/api/v1/order?pageSize=100"))
    assert client.get("/api/v1/order?pageSize=50").json()["count"] == 50
    assert one == many, (one, many)
    assert partner_one == partner_many, (partner_one, partner_many)
    # Every order row names its assignee without a query per row.
    rows = client.get("/api/v1/order?pageSize=50").json()["values"]
    assert {r["assignee"]["id"] for r in rows} == {str(tech.pk)}


def test_schema_documents_assignee(client):
    import json

    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    put = schema["paths"]["/api/v1/order/{id}/assignee"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/AssigneeInputRequest")
    assert {"400", "403", "404", "409"} <= set(put["responses"])
    assert "assignee" in schema["components"]["schemas"]["OrderOutput"]["properties"]


def test_seed_demo_gives_each_installer_a_technician_with_a_job():
    import io

    from django.core.management import call_command

    from accounts.models import Membership, Organization

    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    for slug, city in (("oslo-elektro", "oslo"), ("fjord-installasjon", "fjord"), ("nordic-charge", "nordic")):
        installer = Organization.objects.get(slug=slug)
        membership = Membership.objects.select_related("user").get(user__username=f"{city}-tech")
        assert membership.organization == installer and membership.role == Role.TECHNICIAN
        assert membership.user.check_password("installer-demo") and not membership.user.is_staff
    assigned = Order.objects.filter(assignee__username__endswith="-tech").select_related("assignee", "installer")
    assert assigned.exists()
    for order in assigned:
        assert order.status == 2 and order.assignee.username == f"{order.installer.slug.split('-')[0]}-tech"
    assert OrderEvent.objects.filter(type="order.assignee_changed").count() == assigned.count()
    # Idempotent: a second run assigns nothing more.
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    assert OrderEvent.objects.filter(type="order.assignee_changed").count() == assigned.count()
