"""Writes of the partner workspace."""

from __future__ import annotations

import secrets

from django.db import transaction

from accounts.models import Membership, hash_token
from partners.models import CalendarFeed


def calendar_feed_rotate(*, membership: Membership) -> str:
    """Gives the membership a new calendar feed secret and returns it (it is stored nowhere;
    only its hash is). The previous secret, if any, stops working in the same transaction."""
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().filter(membership=membership).first()
        if feed is None:
            CalendarFeed.objects.create(membership=membership, secret_hash=hash_token(raw))
        else:
            feed.secret_hash = hash_token(raw)
            feed.save(update_fields=["secret_hash", "created_at"])
    return raw
