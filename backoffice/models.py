"""What the back office keeps per user: named order-list filters."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SavedFilter(models.Model):
    """A user's named filter set of the order list: the list's query string without paging
    (`status__exact=1&tag=...`). Only its user sees, applies or deletes it; applied, it goes
    through the order list's tenancy like any URL, so it never shows another organization's
    orders."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_order_filters")
    name = models.CharField(max_length=80)
    query_string = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_user_name_unique")]
        verbose_name = "saved order filter"

    def __str__(self) -> str:
        return self.name
