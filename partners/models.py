"""The partner workspace's own data: each member's private calendar feed."""

from __future__ import annotations

from django.db import models

from accounts.models import Membership


class CalendarFeed(models.Model):
    """A member's private iCalendar feed (`/partner/calendar/<secret>.ics`). The secret is the
    credential: only its SHA-256 is stored (looked up by that hash, so nothing compares the
    secret itself), and rotating it replaces the hash, so the old link stops working. One per
    membership: the feed shows what that membership may see, and goes with it."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="calendar_feed")
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.membership}"
