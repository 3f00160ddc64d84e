"""List Orders filters (API.md). Every filter has an index behind it (see Order.Meta.indexes)."""

from __future__ import annotations

import copy

import django_filters
from django import forms
from django.db.models import Q
from django_filters.filters import FilterMethod

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


class _SharedFields(dict):
    """A form's `base_fields` that each form instance shares instead of deep-copying them: the
    fields are only used to validate (nothing sets choices or widget attributes on them)."""

    def __deepcopy__(self, memo):
        return dict(self)


class _Filters(dict):
    """A filter set's `base_filters`, copied per filter set instance with one shallow copy per
    filter (django-filter deep-copies them): each copy gets its own `parent` and `model`, and a
    `method` filter its own FilterMethod bound to the copy; the rest (field name, lookup, the
    `extra` arguments) is read-only while filtering."""

    def __deepcopy__(self, memo):
        copies = {}
        for name, filter_ in self.items():
            new = copy.copy(filter_)
            if isinstance(filter_.__dict__.get("filter"), FilterMethod):
                new.filter = FilterMethod(new)
            copies[name] = new
        return copies


class OrderFilter(django_filters.FilterSet):
    status = StatusListFilter()
    tagId = django_filters.UUIDFilter(method="filter_tag")
    workflowId = django_filters.UUIDFilter(field_name="workflow_id")
    installerId = django_filters.UUIDFilter(field_name="installer_id")
    postalCode = django_filters.CharFilter(field_name="postal_code")
    createdAfter = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    createdBefore = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updatedSince = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
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

    # List Orders is the hottest list: django-filter would build every form field and a new
    # form class on each request, and deep-copy the filters and then the fields (half a
    # millisecond of a ~5 ms page). These filters and fields depend on nothing of the request
    # (no queryset of choices), so the form class is built once per class and shares its fields,
    # and the filters are copied shallowly (`_Filters`).

    @classmethod
    def _form_class(cls):
        form_class = cls.__dict__.get("_form_class_built")
        if form_class is None:
            form_class = super().get_form_class(cls())
            form_class.base_fields = _SharedFields(form_class.base_fields)
            cls._form_class_built = form_class
        return form_class

    def get_form_class(self):
        return self._form_class()

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


OrderFilter.base_filters = _Filters(OrderFilter.base_filters)
