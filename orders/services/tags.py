"""Order tags: creating them, assigning them to orders and removing them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import Organization
from orders.actors import Actor
from orders.exceptions import NotFound
from orders.models import Order, OrderTag, TaggedOrder
from orders.selectors import forget_relations, parse_uuid
from orders.services.lifecycle import PendingEvents, finish_change, lock_order


def order_tags_create(*, organization: Organization, names: Sequence[str]) -> list[OrderTag]:
    """Returns the tags of the names, in order and each once, creating the missing ones; an
    existing name (any case) is reused, so "VIP" and "vip" in one call give one tag."""
    result: list[OrderTag] = []
    seen: set[str] = set()
    for raw in names:
        name = raw.strip()
        if not name or name.lower() in seen:
            continue
        seen.add(name.lower())
        for _ in range(2):
            existing = OrderTag.objects.filter(organization=organization, name__iexact=name).first()
            if existing:
                result.append(existing)
                break
            try:
                with transaction.atomic():
                    tag = OrderTag(organization=organization, name=name)
                    tag.save()
                result.append(tag)
                break
            except IntegrityError:  # a concurrent request created it: read it again
                continue
    return result


def _tag_change(*, order_id: Any, organization: Organization, tag_id: Any, actor: Actor, add: bool) -> Order:
    pk = parse_uuid(tag_id)
    tag = OrderTag.objects.filter(organization=organization, pk=pk).first() if pk is not None else None
    if tag is None:
        raise NotFound("Tag not found.")
    with transaction.atomic():
        order = lock_order(order_id, organization=organization)
        if add:
            _, changed = TaggedOrder.objects.get_or_create(content_object=order, tag=tag)
        else:
            changed = TaggedOrder.objects.filter(content_object=order, tag=tag).delete()[0] > 0
        if changed:
            forget_relations(order, "tag_links")
            pending = PendingEvents(order)
            pending.add(
                "order.tag_added" if add else "order.tag_removed",
                actor,
                data={"tag": {"id": str(tag.pk), "name": tag.name}},
                from_status=order.status,
                to_status=order.status,
            )
            finish_change(order, pending)
    return order


def order_tag_assign(*, order_id: Any, organization: Organization, tag_id: Any, actor: Actor) -> Order:
    """Idempotent: assigning a tag the order already has changes nothing."""
    return _tag_change(order_id=order_id, organization=organization, tag_id=tag_id, actor=actor, add=True)


def order_tag_remove(*, order_id: Any, organization: Organization, tag_id: Any, actor: Actor) -> Order:
    """Idempotent: removing a tag the order does not have changes nothing."""
    return _tag_change(order_id=order_id, organization=organization, tag_id=tag_id, actor=actor, add=False)
