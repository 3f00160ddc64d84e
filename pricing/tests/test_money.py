"""pricing.money on cases computed by hand (the working is in each comment)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from pricing.money import LineAmounts, line_amounts, round_minor, totals


def excl(quantity, unit, rate, discount="0", **kw):
    return line_amounts(
        quantity=D(quantity),
        unit_amount=unit,
        discount_percent=D(discount),
        vat_rate=D(rate),
        prices_include_vat=False,
        **kw,
    )


def incl(quantity, unit, rate, discount="0", **kw):
    return line_amounts(
        quantity=D(quantity),
        unit_amount=unit,
        discount_percent=D(discount),
        vat_rate=D(rate),
        prices_include_vat=True,
        **kw,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.5", 3),
        ("-2.5", -3),
        ("2.49", 2),
        ("-2.49", -2),
        ("2.51", 3),
        ("-2.51", -3),
        ("0.5", 1),
        ("-0.5", -1),
        ("0", 0),
        ("7", 7),
        ("1349.85", 1350),
        ("799.2", 799),
    ],
)
def test_round_minor_is_half_away_from_zero(value, expected):
    assert round_minor(D(value)) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # 2 × 100.00 kr = 20000 øre; 25 % VAT = 5000.
        (("2", 10000, "25"), LineAmounts(net=20000, vat=5000, gross=25000, payout=0)),
        # 3 × 3333 × 0.9 = 8999.1 → 8999; 8999 × 0.15 = 1349.85 → 1350.
        (("3", 3333, "15", "10"), LineAmounts(net=8999, vat=1350, gross=10349, payout=0)),
        # 1.5 × 1999 = 2998.5 → 2999 (half up); 2999 × 0.12 = 359.88 → 360.
        (("1.5", 1999, "12"), LineAmounts(net=2999, vat=360, gross=3359, payout=0)),
        # 4 × 250 = 1000; 0 % VAT.
        (("4", 250, "0"), LineAmounts(net=1000, vat=0, gross=1000, payout=0)),
        # 1 × 5 × 0.5 = 2.5 → 3; 3 × 0.25 = 0.75 → 1.
        (("1", 5, "25", "50"), LineAmounts(net=3, vat=1, gross=4, payout=0)),
        # The credit of the line above mirrors it: −2.5 → −3; −0.75 → −1.
        (("-1", 5, "25", "50"), LineAmounts(net=-3, vat=-1, gross=-4, payout=0)),
        # Net 10 at 25 %: VAT 2.5 → 3, and −2.5 → −3.
        (("1", 10, "25"), LineAmounts(net=10, vat=3, gross=13, payout=0)),
        (("-1", 10, "25"), LineAmounts(net=-10, vat=-3, gross=-13, payout=0)),
        # A negative unit amount (a discount line) is a credit too.
        (("1", -10, "25"), LineAmounts(net=-10, vat=-3, gross=-13, payout=0)),
        # 0.333 × 1000 = 333; 333 × 0.25 = 83.25 → 83.
        (("0.333", 1000, "25"), LineAmounts(net=333, vat=83, gross=416, payout=0)),
        # Zero quantity, zero price, a 100 % discount: all zero.
        (("0", 10000, "25"), LineAmounts(net=0, vat=0, gross=0, payout=0)),
        (("3", 0, "25"), LineAmounts(net=0, vat=0, gross=0, payout=0)),
        (("3", 10000, "25", "100"), LineAmounts(net=0, vat=0, gross=0, payout=0)),
    ],
)
def test_prices_exclusive_of_vat(args, expected):
    assert excl(*args) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # 125.00 kr incl. 25 %: net 12500 / 1.25 = 10000, VAT 2500.
        (("1", 12500, "25"), LineAmounts(net=10000, vat=2500, gross=12500, payout=0)),
        # 999 / 1.25 = 799.2 → 799; VAT = 999 − 799 = 200.
        (("1", 999, "25"), LineAmounts(net=799, vat=200, gross=999, payout=0)),
        (("-1", 999, "25"), LineAmounts(net=-799, vat=-200, gross=-999, payout=0)),
        # 2 × 1150 × 0.5 = 1150; 1150 / 1.15 = 1000; VAT 150.
        (("2", 1150, "15", "50"), LineAmounts(net=1000, vat=150, gross=1150, payout=0)),
        # 1000 / 1.12 = 892.857… → 893; VAT 107.
        (("1", 1000, "12"), LineAmounts(net=893, vat=107, gross=1000, payout=0)),
        # 0 %: net = gross.
        (("2", 750, "0"), LineAmounts(net=1500, vat=0, gross=1500, payout=0)),
        # 1 × 5 × 0.5 = 2.5 → gross 3; 3 / 1.25 = 2.4 → 2; VAT 1. The credit mirrors it.
        (("1", 5, "25", "50"), LineAmounts(net=2, vat=1, gross=3, payout=0)),
        (("-1", 5, "25", "50"), LineAmounts(net=-2, vat=-1, gross=-3, payout=0)),
        # gross 25 / 1.25 = 20 exactly; 125 / 1.25 = 100; 5 / 1.25 = 4.
        (("1", 5, "25"), LineAmounts(net=4, vat=1, gross=5, payout=0)),
        # 1.5 × 1 = 1.5 → gross 2; 2 / 1.15 = 1.739 → 2; VAT 0.
        (("1.5", 1, "15"), LineAmounts(net=2, vat=0, gross=2, payout=0)),
    ],
)
def test_prices_inclusive_of_vat(args, expected):
    assert incl(*args) == expected


def test_payout_percent_is_a_share_of_the_net():
    # net 20000 × 70 % = 14000 (the VAT is not shared).
    assert excl("2", 10000, "25", payout_percent=D("70")).payout == 14000
    # inclusive: net 10000 of gross 12500; 70 % = 7000.
    assert incl("1", 12500, "25", payout_percent=D("70")).payout == 7000
    # net 8999 × 33.33 % = 2999.3667 → 2999; after the payer's discount (net is discounted).
    assert excl("3", 3333, "15", "10", payout_percent=D("33.33")).payout == 2999
    # 3 × 0.5 = 1.5 → 2, and the credit −2.
    assert excl("1", 3, "25", payout_percent=D("50")).payout == 2
    assert excl("-1", 3, "25", payout_percent=D("50")).payout == -2


def test_payout_amount_is_per_unit_and_ignores_the_discount():
    # 1500 × 2.5 = 3750, whatever the payer's discount.
    assert excl("2.5", 10000, "25", "20", payout_amount=1500).payout == 3750
    # 333 × 1.5 = 499.5 → 500; the credit −500.
    assert excl("1.5", 1000, "25", payout_amount=333).payout == 500
    assert excl("-1.5", 1000, "25", payout_amount=333).payout == -500
    assert excl("0", 1000, "25", payout_amount=333).payout == 0


def test_no_payout_is_zero():
    assert excl("2", 10000, "25").payout == 0


def test_both_payout_kinds_are_refused():
    with pytest.raises(ValueError, match="not both"):
        excl("1", 100, "25", payout_percent=D("10"), payout_amount=5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"quantity": 1.5},
        {"unit_amount": 100.0},
        {"vat_rate": 25.0},
        {"discount_percent": 0.1},
        {"payout_percent": 10.0},
        {"payout_amount": 5.0},
        {"unit_amount": "100"},
        {"unit_amount": True},
    ],
)
def test_floats_and_non_integer_amounts_are_refused(kwargs):
    args = {"quantity": D(1), "unit_amount": 100, "vat_rate": D(25), "prices_include_vat": False, **kwargs}
    with pytest.raises(TypeError):
        line_amounts(**args)


def test_numeric_strings_and_ints_are_taken_for_decimals():
    assert line_amounts(quantity="1.5", unit_amount=1999, vat_rate=12, prices_include_vat=False) == excl(
        "1.5", 1999, "12"
    )
    with pytest.raises(ValueError):
        line_amounts(quantity="one", unit_amount=1, vat_rate=D(25), prices_include_vat=False)
    with pytest.raises(ValueError):
        line_amounts(quantity=D("NaN"), unit_amount=1, vat_rate=D(25), prices_include_vat=False)


def test_totals_with_mixed_rates_are_sums_of_rounded_lines():
    lines = [
        (D("25"), excl("2", 10000, "25")),  # 20000 / 5000 / 25000
        (D("15"), excl("3", 3333, "15", "10")),  # 8999 / 1350 / 10349
        (D("12.00"), excl("1.5", 1999, "12")),  # 2999 / 360 / 3359
        (D("0"), excl("4", 250, "0")),  # 1000 / 0 / 1000
        (D("25.00"), incl("1", 999, "25")),  # 799 / 200 / 999
    ]
    result = totals(lines)
    assert (result.net, result.vat, result.gross, result.payout) == (33797, 6910, 40707, 0)
    assert result.by_rate == {
        D("0.00"): (1000, 0),
        D("12.00"): (2999, 360),
        D("15.00"): (8999, 1350),
        D("25.00"): (20799, 5200),
    }
    assert list(result.by_rate) == [D("0"), D("12"), D("15"), D("25")]
    assert result.gross == result.net + result.vat


def test_totals_round_per_line_not_on_the_sum():
    # Three lines of net 2 at 25 %: VAT 0.5 → 1 each, 3 in all (rounding the sum, 1.5, would give 2).
    result = totals([(D(25), excl("1", 2, "25"))] * 3)
    assert (result.net, result.vat, result.gross) == (6, 3, 9)


def test_a_credit_line_cancels_its_debit():
    debit = excl("1.5", 1999, "12", "10", payout_percent=D("70"))
    credit = excl("-1.5", 1999, "12", "10", payout_percent=D("70"))
    result = totals([(D(12), debit), (D(12), credit)])
    assert (result.net, result.vat, result.gross, result.payout) == (0, 0, 0, 0)
    assert result.by_rate == {D("12.00"): (0, 0)}


def test_totals_of_nothing_are_zero():
    result = totals([])
    assert (result.net, result.vat, result.gross, result.payout, result.by_rate) == (0, 0, 0, 0, {})


def test_payout_totals_sum_lines():
    result = totals(
        [(D(25), excl("2", 10000, "25", payout_percent=D("70"))), (D(25), excl("2.5", 100, "25", payout_amount=40))]
    )
    assert result.payout == 14000 + 100
