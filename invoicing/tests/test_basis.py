"""The basis prices delivered lines with pricing.money: per line rounding to the øre, half away
from zero, totals summed; only approved lines are billed. Hand-computed cases."""

from __future__ import annotations

from decimal import Decimal as D

from invoicing.basis import priced_lines, sums
from invoicing.models import ApprovalStatus, DeliveredLine, LineSource


def line(**kw):
    base = {
        "description": "x",
        "unit": "piece",
        "quantity": D(1),
        "unit_amount": 100,
        "discount_percent": D(0),
        "vat_rate": D(25),
        "prices_include_vat": False,
        "approval": ApprovalStatus.APPROVED,
        "source": LineSource.QUOTE,
    }
    base.update(kw)
    return DeliveredLine(**base)


def test_half_an_ore_rounds_away_from_zero_per_line():
    # 1 × 0.02 at 25 %: VAT 0.5 øre -> 1 øre, on each of three lines; summed: 3 (not round(1.5) = 2).
    lines, pending = priced_lines([line(unit_amount=2)] * 3)
    net, vat, gross, payout, by_rate = sums(lines)
    assert pending == 0
    assert [(x.net, x.vat, x.gross) for x in lines] == [(2, 1, 3)] * 3
    assert (net, vat, gross) == (6, 3, 9)


def test_just_below_half_rounds_down():
    # 3 × 0.33 with 10 % discount = 89.1 øre -> 89; VAT 25 % = 22.25 -> 22.
    [priced], _ = priced_lines([line(quantity=D(3), unit_amount=33, discount_percent=D(10))])
    assert (priced.net, priced.vat, priced.gross) == (89, 22, 111)


def test_prices_including_vat_split_back():
    # 1 × 99.99 incl. 25 %: net = 9999 / 1.25 = 7999.2 -> 7999, VAT the rest.
    [priced], _ = priced_lines([line(unit_amount=9999, prices_include_vat=True)])
    assert (priced.net, priced.vat, priced.gross) == (7999, 2000, 9999)


def test_mixed_rates_are_summed_per_rate():
    lines, _ = priced_lines(
        [
            line(unit_amount=10000, vat_rate=D(25)),
            line(unit_amount=5000, vat_rate=D(15), quantity=D(2)),
            line(unit_amount=3333, vat_rate=D(0)),
            line(unit_amount=101, vat_rate=D(25)),
        ]
    )
    net, vat, gross, _, by_rate = sums(lines)
    assert by_rate == {D("0.00"): (3333, 0), D("15.00"): (10000, 1500), D("25.00"): (10101, 2525)}
    # 101 × 25 % = 25.25 -> 25; 10000 × 25 % = 2500.
    assert (net, vat, gross) == (23434, 4025, 27459)


def test_payout_percent_and_amount():
    lines, _ = priced_lines(
        [
            line(unit_amount=12345, payout_percent=D(33)),  # 4073.85 -> 4074
            line(unit_amount=80000, quantity=D("2.5"), payout_amount=60001),  # 150002.5 -> 150003
        ]
    )
    assert [x.payout for x in lines] == [4074, 150003]
    assert sums(lines)[3] == 154077


def test_pending_extras_are_not_billed():
    lines, pending = priced_lines(
        [line(unit_amount=1000), line(unit_amount=999999, source=LineSource.EXTRA, approval=ApprovalStatus.PENDING)]
    )
    assert pending == 1
    assert sums(lines)[0] == 1000
