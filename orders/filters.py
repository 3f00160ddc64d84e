"""List Orders filters (API.md). Every filter has an index behind it (see Order.Meta.indexes)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from installer.api.fields import AwareIsoDateTimeFilter
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


class OrderFilter(django_filters.FilterSet):
    status = StatusListFilter()
    tagId = django_filters.UUIDFilter(method="filter_tag")
    workflowId = django_filters.UUIDFilter(field_name="workflow_id")
    installerId = django_filters.UUIDFilter(field_name="installer_id")
    postalCode = django_filters.CharFilter(field_name="postal_code")
    createdAfter = AwareIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    createdBefore = AwareIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updatedSince = AwareIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
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
