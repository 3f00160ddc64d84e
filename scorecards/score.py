"""The performance score that `best_performing` ranks by and every other strategy breaks ties
with (docs/dispatch.md#performance-score). Pure: computed from a 90-day `WindowFigures`.

    score = 30 × accept rate + 25 × on-time start rate + 25 × completion rate
            + 20 × speed − 20 × expiry rate, clamped to 0–100
    speed = max(0, 1 − median hours to accept / 24)
    expiry rate = expired / (accepted + declined + expired)

A part without data (no start, no finished job, no accept yet) counts as NEUTRAL_PART. A partner
with fewer than MIN_OFFERS offers in the window gets NEUTRAL_SCORE whatever its figures, so a
new partner still gets work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scorecards.selectors import WindowFigures

SCORE_WINDOW_DAYS = 90
MIN_OFFERS = 5
NEUTRAL_SCORE = 50.0
NEUTRAL_PART = 0.5
SPEED_ZERO_HOURS = 24.0
WEIGHTS = {"acceptRate": 30.0, "onTimeStartRate": 25.0, "completionRate": 25.0, "speed": 20.0}
EXPIRY_PENALTY = 20.0


@dataclass(frozen=True)
class Score:
    """A partner's score (0–100, higher is better) and the parts it is made of."""

    value: float
    below_floor: bool
    offers: int
    parts: dict[str, float | None]
    expiry_rate: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.value,
            "belowFloor": self.below_floor,
            "offers": self.offers,
            "parts": {name: None if v is None else round(v, 4) for name, v in self.parts.items()},
            "expiryRate": None if self.expiry_rate is None else round(self.expiry_rate, 4),
        }


def speed(median_seconds_to_accept: float | None) -> float | None:
    if median_seconds_to_accept is None:
        return None
    return max(0.0, 1.0 - median_seconds_to_accept / 3600.0 / SPEED_ZERO_HOURS)


def score_of(figures: WindowFigures) -> Score:
    parts: dict[str, float | None] = {
        "acceptRate": figures.accept_rate,
        "onTimeStartRate": figures.on_time_rate,
        "completionRate": figures.completion_rate,
        "speed": speed(figures.median_seconds_to_accept),
    }
    expiry_rate = figures.expiry_rate
    if figures.offers_received < MIN_OFFERS:
        return Score(NEUTRAL_SCORE, True, figures.offers_received, parts, expiry_rate)
    total = 0.0
    for name, weight in WEIGHTS.items():
        part = parts[name]
        total += weight * (NEUTRAL_PART if part is None else part)
    total -= EXPIRY_PENALTY * (expiry_rate or 0.0)
    return Score(round(min(100.0, max(0.0, total)), 1), False, figures.offers_received, parts, expiry_rate)


NEUTRAL = Score(NEUTRAL_SCORE, True, 0, dict.fromkeys(WEIGHTS), None)
