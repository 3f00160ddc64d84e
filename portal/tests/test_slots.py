"""Free slots: working hours in the installer's zone, existing bookings, summer-time changes."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from orders.tests.factories import create_order
from portal import selectors
from portal.models import WorkingHours
from portal.tests.conftest import OSLO, assign, book, next_weekday

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


def test_default_week_is_monday_to_friday_eight_to_four(assigned):
    monday = datetime.datetime(2030, 6, 3, 0, 0, tzinfo=OSLO)  # a Monday
    slots = selectors.working_slots(selectors.week_of(assigned.installer_id), OSLO, start=monday, days=7, minutes=120)
    local = [(s.start.astimezone(OSLO).strftime("%a %H:%M"), s.end.astimezone(OSLO).strftime("%H:%M")) for s in slots]
    assert len(local) == 5 * 4
    assert local[:4] == [("Mon 08:00", "10:00"), ("Mon 10:00", "12:00"), ("Mon 12:00", "14:00"), ("Mon 14:00", "16:00")]
    assert not any(day.startswith(("Sat", "Sun")) for day, _ in local)


def test_working_hours_rows_replace_the_default_week(assigned):
    WorkingHours.objects.create(installer_id=assigned.installer_id, weekday=5, start="09:00", end="12:00")
    monday = datetime.datetime(2030, 6, 3, 0, 0, tzinfo=OSLO)
    slots = selectors.working_slots(selectors.week_of(assigned.installer_id), OSLO, start=monday, days=7, minutes=60)
    assert [s.start.astimezone(OSLO).strftime("%a %H") for s in slots] == ["Sat 09", "Sat 10", "Sat 11"]


def test_slots_start_after_now(assigned):
    now = datetime.datetime(2030, 6, 3, 11, 0, tzinfo=OSLO)
    slots = selectors.working_slots(selectors.week_of(assigned.installer_id), OSLO, start=now, days=1, minutes=120)
    assert [s.start.astimezone(OSLO).hour for s in slots] == [12, 14]


def test_bookings_of_the_installer_remove_overlapping_slots_but_not_its_own(router, installer, assigned):
    tuesday_ten = next_weekday(datetime.time(10, 0))
    other = assign(create_order(router), router, installer)
    book(other, tuesday_ten + datetime.timedelta(minutes=30), hours=1)  # 10:30-11:30 blocks 10-12
    free = {s.start for s in selectors.free_slots(assigned)}
    assert tuesday_ten not in free
    assert tuesday_ten - datetime.timedelta(hours=2) in free and tuesday_ten + datetime.timedelta(hours=2) in free
    own = book(assigned, tuesday_ten + datetime.timedelta(hours=2))  # the order's own booking does not block
    assert tuesday_ten + datetime.timedelta(hours=2) in {s.start for s in selectors.free_slots(own)}


def test_an_other_installers_bookings_do_not_matter(router, installer, assigned):
    from dispatch.tests.conftest import make_installer, make_partner

    second = make_installer("Other AS", time_zone="Europe/Oslo")
    make_partner(router, second, priority=1)
    tuesday_ten = next_weekday(datetime.time(10, 0))
    book(assign(create_order(router), router, second), tuesday_ten)
    assert tuesday_ten in {s.start for s in selectors.free_slots(assigned)}


def test_working_hours_are_read_in_the_installers_zone(router, assigned):
    installer = assigned.installer
    installer.time_zone = "America/New_York"
    installer.save(update_fields=["time_zone"])
    order = type(assigned).objects.select_related("installer").get(pk=assigned.pk)
    first = selectors.free_slots(order)[0]
    assert first.start.astimezone(ZoneInfo("America/New_York")).hour in (8, 10, 12, 14)


def test_spring_forward_skips_wall_clock_times_that_do_not_exist():
    # 2030-03-31: Oslo's clocks jump from 02:00 to 03:00.
    week = {6: (datetime.time(0, 0), datetime.time(5, 0))}
    start = datetime.datetime(2030, 3, 30, 12, 0, tzinfo=UTC)
    slots = selectors.working_slots(week, OSLO, start=start, days=2, minutes=60)
    local = [s.start.astimezone(OSLO).strftime("%H:%M%z") for s in slots]
    # 01:00-02:00 ends at a time that does not exist, 02:00-03:00 starts at one: both left out.
    assert local == ["00:00+0100", "03:00+0200", "04:00+0200"]
    assert all(s.end - s.start == datetime.timedelta(hours=1) for s in slots)


def test_fall_back_slot_across_the_change_lasts_its_real_length():
    # 2030-10-27: Oslo's clocks go back from 03:00 to 02:00; 02:00-04:00 on the wall is 3 hours.
    week = {6: (datetime.time(0, 0), datetime.time(4, 0))}
    start = datetime.datetime(2030, 10, 26, 12, 0, tzinfo=UTC)
    slots = selectors.working_slots(week, OSLO, start=start, days=2, minutes=120)
    assert [s.start.astimezone(UTC).strftime("%H:%M") for s in slots] == ["22:00", "00:00"]
    assert slots[1].end - slots[1].start == datetime.timedelta(hours=3)


def test_booking_inside_hours_check(assigned):
    tuesday = next_weekday(datetime.time(8, 0))
    assert selectors.within_working_hours(assigned, tuesday, tuesday + datetime.timedelta(hours=8))
    assert not selectors.within_working_hours(assigned, tuesday, tuesday + datetime.timedelta(hours=9))
    saturday = next_weekday(datetime.time(9, 0), weekday=5)
    assert not selectors.within_working_hours(assigned, saturday, saturday + datetime.timedelta(hours=1))


def test_the_customer_reads_the_messages_sent_to_them_only(assigned, client):
    from django.utils import timezone

    from notifications.models import Channel, Message, MessageStatus

    assert selectors.messages_for(assigned) == []
    now = timezone.now()
    common = {
        "order": assigned,
        "organization_id": assigned.organization_id,
        "language": "en",
        "body": "b",
        "due_at": now,
    }
    Message.objects.create(
        **common,
        occurrence_key="a",
        channel=Channel.CUSTOMER_EMAIL,
        recipient="ola@example.com",
        subject="Your appointment",
        status=MessageStatus.SENT,
        sent_at=now,
    )
    Message.objects.create(
        **common,
        occurrence_key="b",
        channel=Channel.CUSTOMER_SMS,
        recipient="+4791234567",
        subject="",
        status=MessageStatus.PLANNED,
    )
    Message.objects.create(
        **common,
        occurrence_key="c",
        channel=Channel.PARTNER_EMAIL,
        recipient="firma@example.com",
        subject="New job",
        status=MessageStatus.SENT,
        sent_at=now,
    )
    sent = selectors.messages_for(assigned)
    assert [(m.channel, m.subject) for m in sent] == [("customer_email", "Your appointment")]
    from urllib.parse import urlsplit

    page = client.get(urlsplit(assigned.client_url).path)
    assert page.status_code == 200 and "Your appointment" in page.content.decode()
    assert "New job" not in page.content.decode()
