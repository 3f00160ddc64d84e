"""Checking and attaching uploaded files to orders (uploads: orders.files)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db.models import Model

from accounts.models import Organization
from orders.exceptions import OrderValidationError
from orders.models import File, Order
from orders.selectors import forget_relations

M = TypeVar("M", bound=Model)


def owned(model: type[M], organization: Organization, ids: Sequence[Any], wire_name: str) -> list[M]:
    """The organization's rows with these ids, each once, in the order given; OrderValidationError
    naming the field when one is not the organization's."""
    if not ids:
        return []
    wanted = list(dict.fromkeys(str(i) for i in ids))
    found = {str(row.pk): row for row in model._default_manager.filter(organization=organization, pk__in=wanted)}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise OrderValidationError(
            f"{wire_name}: unknown id(s) {', '.join(missing)}.",
            details={wire_name: [f"Unknown id {i}." for i in missing]},
        )
    return [found[i] for i in wanted]


def files_check(*, organization: Organization, file_ids: Sequence[Any], order: Order | None = None) -> list[str]:
    """Checks that every file belongs to the organization and is not attached to another order.
    Raises OrderValidationError (`fileIds`) otherwise; nothing is attached here."""
    ids = [str(file.pk) for file in owned(File, organization, file_ids, "fileIds")]
    if ids:
        taken = File.objects.filter(pk__in=ids, order__isnull=False)
        if order is not None:
            taken = taken.exclude(order=order)
        taken_ids = [str(pk) for pk in taken.values_list("pk", flat=True)]
        if taken_ids:
            raise OrderValidationError(
                "fileIds: a file is already attached to another order.",
                details={"fileIds": [f"File {i} is already attached to another order." for i in taken_ids]},
            )
    return ids


def files_attach(*, order: Order, file_ids: Sequence[str]) -> int:
    """Attaches checked files (`files_check`) to the order. Precondition: inside the transaction
    of the change that attaches them; a file attached meanwhile elsewhere is left alone."""
    if not file_ids:
        return 0
    attached = File.objects.filter(pk__in=file_ids, order__isnull=True).update(order=order)
    if attached:
        forget_relations(order, "file_list")
    return attached
