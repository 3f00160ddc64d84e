"""The partner's working week, set on the coverage page: customers' slots follow it."""

from __future__ import annotations

import datetime

import pytest

from accounts.models import Role
from orders.tests.factories import MembershipFactory, OrganizationFactory
from portal.models import WorkingHours
from portal.selectors import week_of

pytestmark = pytest.mark.django_db

URL = "/partner/coverage/hours/"


def _login(client, organization, role):
    membership = MembershipFactory(organization=organization, role=role)
    client.force_login(membership.user)
    return client


def _week(days=None):
    """Form data: days given as weekday=(start, end) are worked, the others are not."""
    days = days or {}
    data = {}
    for day in range(7):
        if day in days:
            data[f"on_{day}"] = "on"
            data[f"start_{day}"], data[f"end_{day}"] = days[day]
        else:
            data[f"start_{day}"], data[f"end_{day}"] = "08:00", "16:00"
    return data


@pytest.fixture
def installer(db):
    return OrganizationFactory(name="Oslo Elektro", slug="oslo-elektro", is_installer=True)


def test_the_page_shows_the_default_week_and_saving_replaces_it(client, installer):
    _login(client, installer, Role.ADMIN)
    page = client.get("/partner/coverage/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Working hours" in page and 'name="on_0" checked' in page.replace('id="id_on_0" ', "")
    response = client.post(URL, _week({0: ("07:00", "15:00"), 5: ("09:00", "13:00")}))
    assert response.status_code == 302
    assert week_of(installer.pk) == {
        0: (datetime.time(7, 0), datetime.time(15, 0)),
        5: (datetime.time(9, 0), datetime.time(13, 0)),
    }
    page = client.get("/partner/coverage/").content.decode()
    assert "Working hours saved." in page and 'value="07:00"' in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_week({1: ("16:00", "08:00")}), "The day must end after it starts."),
        (_week(), "Choose at least one working day."),
        ({**_week({2: ("08:00", "16:00")}), "end_2": "25:99"}, "Enter a valid time."),
    ],
)
def test_bad_weeks_are_refused_beside_the_day_and_change_nothing(client, installer, data, message):
    WorkingHours.objects.create(installer=installer, weekday=3, start="10:00", end="14:00")
    _login(client, installer, Role.OPERATOR)
    response = client.post(URL, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert list(WorkingHours.objects.values_list("weekday", flat=True)) == [3]


def test_a_technician_reads_the_hours_but_cannot_change_them(client, installer):
    WorkingHours.objects.create(installer=installer, weekday=3, start="10:00", end="14:00")
    _login(client, installer, Role.TECHNICIAN)
    page = client.get("/partner/coverage/").content.decode()
    assert "10:00–14:00" in page and URL not in page
    assert client.post(URL, _week({0: ("08:00", "09:00")})).status_code == 403
    assert list(WorkingHours.objects.values_list("weekday", flat=True)) == [3]


def test_each_partner_changes_only_its_own_week(client, installer):
    other = OrganizationFactory(name="Bergen Rør", slug="bergen-ror", is_installer=True)
    WorkingHours.objects.create(installer=other, weekday=6, start="10:00", end="12:00")
    _login(client, installer, Role.ADMIN)
    client.post(URL, _week({0: ("08:00", "09:00")}))
    assert list(WorkingHours.objects.filter(installer=other).values_list("weekday", flat=True)) == [6]
    assert list(WorkingHours.objects.filter(installer=installer).values_list("weekday", flat=True)) == [0]


def test_the_section_reads_norwegian(client, installer):
    _login(client, installer, Role.ADMIN)
    page = client.get("/partner/coverage/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Arbeidstid" in page and "Mandag" in page and "Lagre arbeidstiden" in page
