"""The partner pages' forms. They parse; the views call the services (the API's) and turn
domain errors into form errors."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from orders.models import OrderStatus
from partners import workspace

MAX_PHOTOS = 10


class PartnerLoginForm(AuthenticationForm):
    """Django's login form; an account that is no installer organization's member is refused
    as "no partner access" (it authenticated, so django-axes counts it as a success)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "no_partner_access": _("This account has no partner access."),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not workspace.partner_memberships(user):
            raise forms.ValidationError(self.error_messages["no_partner_access"], code="no_partner_access")


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False, widget=forms.Textarea({"rows": 2}))


class BookingForm(forms.Form):
    """A date and a start and end time, in the partner's zone."""

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end = forms.TimeField(label=_("To"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))

    def __init__(self, *args, zone: ZoneInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean(self):
        data = super().clean()
        day, start, end = data.get("date"), data.get("start"), data.get("end")
        if day and start and end:
            if end <= start:
                self.add_error("end", _("The end must be after the start."))
            else:
                try:
                    data["start_at"] = _aware(day, start, self.zone)
                    data["end_at"] = _aware(day, end, self.zone)
                except OverflowError:
                    self.add_error("date", _("Enter a valid date."))
        return data


def _aware(day: datetime.date, time: datetime.time, zone: ZoneInfo) -> datetime.datetime:
    """The wall-clock time in the zone, in UTC (a time skipped by a DST change moves forward)."""
    local = datetime.datetime.combine(day, time, tzinfo=zone)
    return local.astimezone(datetime.UTC)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("At most %(n)d photos.") % {"n": MAX_PHOTOS})
        return [super(PhotosField, self).clean(f, initial) for f in files]


class CompleteForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), max_length=2000, required=False, widget=forms.Textarea({"rows": 3}))
    photos = PhotosField(
        label=_("Photos"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
        help_text=_("JPEG, PNG, HEIC or PDF."),
    )
    # The customer's confirmation (invoicing.services.order_complete_documented checks the image).
    customer_name = forms.CharField(label=_("Customer's name"), max_length=200, required=False)
    signature = forms.CharField(required=False, max_length=800_000, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("signature") and not (data.get("customer_name") or "").strip():
            self.add_error("customer_name", _("Write the name of the customer who signed."))
        return data


class JobFilterForm(forms.Form):
    STATUS_CHOICES = [
        ("", _("All")),
        (str(OrderStatus.DISPATCHING.value), _("To book")),
        (str(OrderStatus.SCHEDULED.value), _("Scheduled")),
        (str(OrderStatus.IN_PROGRESS.value), _("In progress")),
        (str(OrderStatus.COMPLETED.value), _("Completed")),
        (str(OrderStatus.CANCELLED.value), _("Cancelled")),
    ]

    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    booked_from = forms.DateField(
        label=_("Booked from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    booked_to = forms.DateField(label=_("Booked to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    technician = forms.ChoiceField(label=_("Technician"), required=False)

    UNASSIGNED = "none"

    def __init__(self, *args, members: list | None = None, **kwargs):
        """`members`: the memberships a job may be assigned to (the technician filter's choices);
        None for a technician, whose list is its own jobs only."""
        super().__init__(*args, **kwargs)
        if members is None:
            del self.fields["technician"]
        else:
            self.fields["technician"].choices = [  # type: ignore[attr-defined]
                ("", _("Everyone")),
                (self.UNASSIGNED, _("Unassigned")),
                *((str(m.user_id), m.user.get_full_name() or m.user.get_username()) for m in members),
            ]

    def clean(self):
        data = super().clean()
        start, end = data.get("booked_from"), data.get("booked_to")
        if start and end and end < start:
            self.add_error("booked_to", _("The end date is before the start date."))
        return data


class AssignForm(forms.Form):
    """The job's assignee: one of the members who may be assigned, or nobody."""

    assignee = forms.ChoiceField(label=_("Assigned to"), required=False)

    def __init__(self, *args, members: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {str(m.user_id): m for m in members}
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            ("", _("Nobody")),
            *((key, m.user.get_full_name() or m.user.get_username()) for key, m in self.members.items()),
        ]

    def clean_assignee(self):
        key = self.cleaned_data.get("assignee") or ""
        return self.members[key].user if key else None


def partner_role_choices() -> list[tuple[str, Any]]:
    """The roles a partner admin gives, in the workspace's words (operator = dispatcher)."""
    from accounts.models import Role

    return [
        (Role.ADMIN.value, _("Partner admin")),
        (Role.OPERATOR.value, _("Dispatcher")),
        (Role.TECHNICIAN.value, _("Technician")),
    ]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=partner_role_choices, initial="technician")


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=partner_role_choices)


class WorkingWeekForm(forms.Form):
    """The installer's working week: per weekday "works that day" and its hours. Customers pick
    appointments inside it (portal.selectors.week_of)."""

    def __init__(self, *args: Any, week: dict[int, tuple[datetime.time, datetime.time]], **kwargs: Any) -> None:
        from portal.models import Weekday

        super().__init__(*args, **kwargs)
        self.days = []
        for day, label in Weekday.choices:
            start, end = week.get(day, (datetime.time(8, 0), datetime.time(16, 0)))
            time_input = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            self.fields[f"on_{day}"] = forms.BooleanField(required=False, initial=day in week, label=label)
            self.fields[f"start_{day}"] = forms.TimeField(
                required=False, initial=start, widget=time_input, label=_("%(day)s from") % {"day": label}
            )
            self.fields[f"end_{day}"] = forms.TimeField(
                required=False, initial=end, widget=time_input, label=_("%(day)s until") % {"day": label}
            )
            self.days.append((day, label))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        week: dict[int, tuple[datetime.time, datetime.time]] = {}
        for day, _label in self.days:
            if not cleaned.get(f"on_{day}"):
                continue
            start, end = cleaned.get(f"start_{day}"), cleaned.get(f"end_{day}")
            if start is None or end is None:
                self.add_error(f"start_{day}" if start is None else f"end_{day}", _("Give both times."))
            elif end <= start:
                self.add_error(f"end_{day}", _("The day must end after it starts."))
            else:
                week[day] = (start, end)
        if not self.errors and not week:
            raise forms.ValidationError(_("Choose at least one working day."))
        cleaned["week"] = week
        return cleaned

    def rows(self) -> list[tuple[Any, Any, Any]]:
        """(works, from, until) bound fields per weekday, for the template."""
        return [(self[f"on_{day}"], self[f"start_{day}"], self[f"end_{day}"]) for day, _label in self.days]
