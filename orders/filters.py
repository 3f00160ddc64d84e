"""List Orders filters (API.md). Every filter has an index behind it (see Order.Meta.indexes)."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import Q

from orders.models import STATUS_BY_NAME, Order


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


class NotBlankMixin:
    """A typed parameter given without a value (`?createdAfter=`) is a 400, not "no filter": the
    schema has no empty date or id, and a client that sends one has lost its value."""

    def to_python(self, value):
        if isinstance(value, str) and not value.strip():
            raise forms.ValidationError("Must not be empty: give a value or leave the parameter out.")
        return super().to_python(value)


class NotBlankUUIDField(NotBlankMixin, forms.UUIDField):
    pass


class NotBlankIsoDateTimeField(NotBlankMixin, django_filters.fields.IsoDateTimeField):
    """The time in UTC: PostgreSQL refuses offsets of 16 hours or more, which ISO 8601 (and
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

    class Meta:
        model = Order
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
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
        value = value.strip()[:200]
        if not value:
            return qs
        return qs.filter(
            Q(display_id__iexact=value)
            | Q(name__icontains=value)
            | Q(contact_person_name__icontains=value)
            | Q(email__icontains=value)
            | Q(address__icontains=value)
        )
