"""List Orders filters (API.md). Every filter has an index behind it (see Order.Meta.indexes);
`q` on city and postal code, which only installer viewers search, runs on the few orders an
installer may read (its offers' and its own), found through their indexes first."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import Q

from installer.api.fields import AwareIsoDateTimeField
from orders.models import STATUS_BY_NAME, Order
from orders.selectors import Viewer


class StatusListField(forms.Field):
    """`status=1&status=dispatching` or `status=1,2`: integers or names."""

    def to_python(self, value):
        if value in (None, "", []):
            return []
        raw = value if isinstance(value, list) else [value]
        result = []
        for item in raw:
            for part in str(item).split(","):
                part = part.strip()
                if not part:
                    continue
                if part.isdigit() and int(part) in STATUS_BY_NAME.values():
                    result.append(int(part))
                elif part in STATUS_BY_NAME:
                    result.append(STATUS_BY_NAME[part])
                else:
                    raise forms.ValidationError(
                        f"Unknown status '{part}'. Use 0-6 or one of: {', '.join(STATUS_BY_NAME)}."
                    )
        return result


class StatusListFilter(django_filters.Filter):
    field_class = StatusListField

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(status__in=value) if len(value) > 1 else qs.filter(status=value[0])


class TestFlagField(forms.Field):
    """`test=true|false` (or 1|0); anything else, an empty value too, is an error."""

    def to_python(self, value):
        if value is None:
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError("Must be true or false.")

    def validate(self, value):
        pass


class TestFlagFilter(django_filters.Filter):
    """Test orders are left out unless `test=true` asks for them (then only they are listed)."""

    field_class = TestFlagField

    def filter(self, qs, value):
        return qs.filter(test=bool(value))


class NotBlankMixin:
    """A typed parameter given without a value (`?createdAfter=`) is a 400, not "no filter": the
    schema has no empty date or id, and a client that sends one has lost its value."""

    def to_python(self, value):
        if isinstance(value, str) and not value.strip():
            raise forms.ValidationError("Must not be empty: give a value or leave the parameter out.")
        return super().to_python(value)


class NotBlankUUIDField(NotBlankMixin, forms.UUIDField):
    pass


class NotBlankIsoDateTimeField(NotBlankMixin, AwareIsoDateTimeField):
    """A time with its offset (AwareIsoDateTimeField), in UTC: PostgreSQL refuses offsets of 16 hours or more, which ISO 8601 (and
    Python) allow up to 24."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before the year 1 in UTC
            raise forms.ValidationError("Out of the supported range of times.") from None


class UUIDFilter(django_filters.UUIDFilter):
    field_class = NotBlankUUIDField


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = NotBlankIsoDateTimeField


class OrderFilter(django_filters.FilterSet):
    status = StatusListFilter()
    tagId = UUIDFilter(method="filter_tag")
    workflowId = UUIDFilter(field_name="workflow_id")
    installerId = UUIDFilter(field_name="installer_id")
    postalCode = django_filters.CharFilter(field_name="postal_code")
    createdAfter = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    createdBefore = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updatedSince = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    q = django_filters.CharFilter(method="filter_q")
    test = TestFlagFilter()

    class Meta:
        model = Order
        fields: list[str] = []

    def __init__(self, data=None, *args, viewer: Viewer | None = None, **kwargs):
        # Whose list it is: `q` matches only the fields this viewer may read (`filter_q`).
        # None: a caller that reads every field of every order in the queryset.
        self.viewer = viewer
        # `status` may repeat: hand the whole list to the field.
        if data is not None and hasattr(data, "getlist"):
            statuses = data.getlist("status")
            if len(statuses) > 1:
                data = data.copy()
                data.setlist("status", [",".join(statuses)])
        super().__init__(data, *args, **kwargs)

    def filter_tag(self, qs, name, value):
        return qs.filter(tagged_items__tag_id=value)

    def filter_q(self, qs, name, value):
        """The display id (exactly, any case), and the name, customer, email and street (a
        substring in any case). An installer organization's `q` matches the display id, city and
        postal code (a substring) of every order it reads, and the name, customer, email and
        street only of its own orders and those assigned to it: on an order it reads through an
        open offer, a search never reveals a field that orders.api.presenters hides."""
        value = value.strip()[:200]
        if not value:
            return qs
        display_id = Q(display_id__iexact=value)
        customer = (
            Q(name__icontains=value)
            | Q(contact_person_name__icontains=value)
            | Q(email__icontains=value)
            | Q(address__icontains=value)
        )
        viewer = self.viewer
        if viewer is None or not viewer.organization.is_installer:
            return qs.filter(display_id | customer)
        organization = viewer.organization
        area = Q(city__icontains=value) | Q(postal_code__icontains=value)
        sees_customer = Q(organization=organization) | Q(installer=organization)
        return qs.filter(display_id | area | (customer & sees_customer))
