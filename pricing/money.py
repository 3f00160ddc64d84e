"""The money arithmetic of quotes and invoices. Pure functions: no Django models, no I/O.

Amounts are integers in minor units (øre). Quantities, percentages and VAT rates are `Decimal`
(a VAT rate is a percentage: `Decimal("25.00")` is 25 %). Floats are refused (TypeError): a
float cannot say 0.1 exactly.

The one rounding rule (docs/money.md): every line is rounded to the øre on its own, half away
from zero (ROUND_HALF_UP on the absolute value, so a credit line mirrors its debit line), and
every total is the sum of the rounded lines.

- Prices exclusive of VAT: net = round(quantity × unit × (1 − discount)), vat = round(net × rate),
  gross = net + vat.
- Prices inclusive of VAT: gross = round(quantity × unit × (1 − discount)),
  net = round(gross / (1 + rate)), vat = gross − net.
- The installer's payout excludes VAT: a percentage of the line's net, round(net × percent), or an
  amount per unit, round(amount × quantity) (the payer's discount does not reduce it); neither
  means no payout (0).

Zero and negative quantities and amounts are allowed: a negative line is a credit.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
# Plenty for any amount a line can hold (quantity 12 digits, amounts up to 2**63).
_CONTEXT = decimal.Context(prec=60, rounding=ROUND_HALF_UP)


def to_decimal(value: Decimal | int | str, name: str = "value") -> Decimal:
    """`value` as a Decimal: Decimal, int or a numeric string. Floats and booleans are a
    TypeError, a non-numeric string or a non-finite number a ValueError."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"{name} must be a Decimal, an int or a numeric string, not {type(value).__name__}.")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValueError(f"{name} is not a number: {value!r}.") from None
    else:
        raise TypeError(f"{name} must be a Decimal, an int or a numeric string, not {type(value).__name__}.")
    if not result.is_finite():
        raise ValueError(f"{name} must be a finite number.")
    return result


def _minor_units(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int in minor units, not {type(value).__name__}.")
    return value


def round_minor(value: Decimal) -> int:
    """Rounds to a whole minor unit, half away from zero: 2.5 → 3, −2.5 → −3, 2.49 → 2."""
    magnitude = int(abs(value).quantize(Decimal(1), rounding=ROUND_HALF_UP, context=_CONTEXT))
    return -magnitude if value < 0 else magnitude


@dataclass(frozen=True)
class LineAmounts:
    """One line's amounts in minor units; gross = net + vat."""

    net: int
    vat: int
    gross: int
    payout: int


def line_amounts(
    *,
    quantity: Decimal,
    unit_amount: int,
    discount_percent: Decimal = Decimal(0),
    vat_rate: Decimal,
    prices_include_vat: bool,
    payout_percent: Decimal | None = None,
    payout_amount: int | None = None,
) -> LineAmounts:
    """The line's net, VAT, gross and the installer's payout, by the module's rounding rule.
    `payout_percent` and `payout_amount` are exclusive (ValueError when both are given)."""
    qty = to_decimal(quantity, "quantity")
    unit = Decimal(_minor_units(unit_amount, "unit_amount"))
    discount = to_decimal(discount_percent, "discount_percent")
    rate = to_decimal(vat_rate, "vat_rate")
    if payout_percent is not None and payout_amount is not None:
        raise ValueError("Give payout_percent or payout_amount, not both.")
    with decimal.localcontext(_CONTEXT):
        priced = qty * unit * (HUNDRED - discount) / HUNDRED
        if prices_include_vat:
            gross = round_minor(priced)
            net = round_minor(Decimal(gross) * HUNDRED / (HUNDRED + rate))
            vat = gross - net
        else:
            net = round_minor(priced)
            vat = round_minor(Decimal(net) * rate / HUNDRED)
            gross = net + vat
        if payout_percent is not None:
            payout = round_minor(Decimal(net) * to_decimal(payout_percent, "payout_percent") / HUNDRED)
        elif payout_amount is not None:
            payout = round_minor(Decimal(_minor_units(payout_amount, "payout_amount")) * qty)
        else:
            payout = 0
    return LineAmounts(net=net, vat=vat, gross=gross, payout=payout)


@dataclass(frozen=True)
class Totals:
    """The sums of rounded lines. `by_rate` maps each VAT rate (a Decimal with two places,
    ascending) to its (net, vat): the VAT breakdown an invoice shows."""

    net: int
    vat: int
    gross: int
    payout: int
    by_rate: dict[Decimal, tuple[int, int]] = field(default_factory=dict)


def totals(lines: Iterable[tuple[Decimal, LineAmounts]]) -> Totals:
    """Sums `(vat_rate, line amounts)` pairs. No lines: every total is 0 and `by_rate` is empty."""
    net = vat = gross = payout = 0
    by_rate: dict[Decimal, tuple[int, int]] = {}
    for rate, amounts in lines:
        key = to_decimal(rate, "vat_rate").quantize(Decimal("0.01"), context=_CONTEXT)
        net += amounts.net
        vat += amounts.vat
        gross += amounts.gross
        payout += amounts.payout
        rate_net, rate_vat = by_rate.get(key, (0, 0))
        by_rate[key] = (rate_net + amounts.net, rate_vat + amounts.vat)
    return Totals(net=net, vat=vat, gross=gross, payout=payout, by_rate={k: by_rate[k] for k in sorted(by_rate)})
