"""Working hours of an installer organization: when customers may book it.

One row per (installer, weekday) with a start and end time in the installer's own time zone
(`Organization.time_zone`). An installer without any row works the default week,
DEFAULT_HOURS: Monday to Friday 08:00-16:00. A weekday without a row (while others have one)
is a day off.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


# The week of an installer that has set no working hours: weekday -> (start, end).
DEFAULT_HOURS: dict[int, tuple[datetime.time, datetime.time]] = {
    day: (datetime.time(8, 0), datetime.time(16, 0)) for day in range(5)
}


class WorkingHours(models.Model):
    installer = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["installer", "weekday"]
        verbose_name_plural = "working hours"
        constraints = [
            models.UniqueConstraint(fields=["installer", "weekday"], name="working_hours_one_per_day"),
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="working_hours_end_after_start"),
            models.CheckConstraint(condition=models.Q(weekday__gte=0, weekday__lte=6), name="working_hours_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.installer} {self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self) -> None:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValidationError({"end": "Must be after the start."})
