"""No tables of its own: `PartnerScorecard` is a proxy of dispatch's Partnership that gives the
back office a list page of every partner's card (scorecards.admin)."""

from dispatch.models import Partnership


class PartnerScorecard(Partnership):
    class Meta:
        proxy = True
        verbose_name = "partner scorecard"
        verbose_name_plural = "partner scorecards"
