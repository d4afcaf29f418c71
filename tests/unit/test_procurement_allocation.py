"""Allocation arithmetic: shares are whole yen and always add up to the fee exactly."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procurement.allocation import (
    MAX_YEN,
    Band,
    Participant,
    band_price,
    contract_lines,
    split_fee,
)

quantities = st.dictionaries(
    st.text(min_size=1, max_size=6),
    st.integers(min_value=1, max_value=10**6),
    min_size=1,
    max_size=62,
)


@given(fee=st.integers(min_value=0, max_value=MAX_YEN), quantities=quantities)
def test_fee_shares_sum_exactly_and_stay_proportional(fee, quantities):
    shares = split_fee(fee, quantities)
    assert sum(shares.values()) == fee
    total = sum(quantities.values())
    for key, q in quantities.items():
        exact = fee * q / total
        assert abs(shares[key] - exact) < 1  # never more than one yen from the exact share
        assert shares[key] >= 0


@given(fee=st.integers(min_value=0, max_value=10**9), quantities=quantities)
def test_split_is_deterministic(fee, quantities):
    assert split_fee(fee, quantities) == split_fee(fee, dict(quantities))


def test_three_way_split_of_100_yen():
    assert split_fee(100, {"a": 1, "b": 1, "c": 1}) == {"a": 34, "b": 33, "c": 33}
    assert split_fee(100, {"small": 1, "big": 2}) == {"small": 33, "big": 67}


def test_bad_quantities_are_refused():
    with pytest.raises(ValueError):
        split_fee(100, {"a": 0})
    with pytest.raises(ValueError):
        split_fee(-1, {"a": 1})


def test_band_price_picks_the_largest_threshold_reached():
    bands = [Band(1, 120_000), Band(100, 110_000), Band(500, 98_000)]
    assert band_price(bands, 1) == 120_000
    assert band_price(bands, 99) == 120_000
    assert band_price(bands, 100) == 110_000
    assert band_price(bands, 10_000) == 98_000
    with pytest.raises(ValueError):
        band_price([Band(10, 1)], 5)


def test_contract_lines_show_savings_against_budget_and_against_buying_alone():
    bands = [Band(1, 120_000), Band(100, 110_000), Band(500, 98_000)]
    participants = [
        Participant("131016", 400, 125_000),
        Participant("132098", 150, 118_000),
        Participant("133621", 10, 130_000),
    ]
    lines = {line.key: line for line in contract_lines(participants, 98_000, 56_000, bands)}
    toshima = lines["133621"]
    assert toshima.goods_amount == 980_000
    assert sum(line.fee_share for line in lines.values()) == 56_000
    assert toshima.fee_share == 1_000  # 56,000 × 10 / 560
    assert toshima.total == 981_000
    assert toshima.saving == 10 * 130_000 - 981_000
    assert toshima.alone_unit_price == 120_000
    assert toshima.alone_total == 10 * 120_000 + 56_000
    assert toshima.saving_from_pooling == 1_256_000 - 981_000


@given(
    unit=st.integers(min_value=1, max_value=10**7),
    fee=st.integers(min_value=0, max_value=10**9),
    qs=st.lists(st.integers(min_value=1, max_value=10**5), min_size=1, max_size=62),
)
def test_line_totals_add_up_to_the_contract_value(unit, fee, qs):
    participants = [Participant(i, q, unit) for i, q in enumerate(qs)]
    lines = contract_lines(participants, unit, fee)
    assert sum(line.total for line in lines) == unit * sum(qs) + fee
