"""Opening rules: secret-price validity, ranking by price or 総合評価, and the recorded lottery."""

import pytest

from procurement.allocation import Band
from procurement.evaluation import WEIGHTED, BidInput, TenderTerms, evaluate, lottery


def bid(key, unit, fee=0, tech=None):
    return BidInput(key, [Band(1, unit)], fee, tech)


TERMS = TenderTerms(quantity=100, ceiling_unit_price=1_000, minimum_unit_price=600)


def test_bids_outside_the_secret_prices_are_invalid_with_reasons():
    result = evaluate(TERMS, [bid("a", 1_001), bid("b", 599), bid("c", 900), bid("d", 600)])
    by_key = {e.key: e for e in result.ranked}
    assert by_key["a"].invalid_reason == "over_ceiling"
    assert by_key["b"].invalid_reason == "below_minimum"
    assert [e.key for e in result.ranked if e.valid] == ["d", "c"]
    assert result.winner.key == "d"
    assert result.draw is None


def test_lowest_total_includes_the_one_off_fee():
    result = evaluate(TERMS, [bid("a", 700, fee=20_000), bid("b", 800)])
    assert result.winner.key == "b"  # 70,000 + 20,000 > 80,000


def test_pooled_volume_selects_the_band():
    bands = BidInput("a", [Band(1, 990), Band(100, 700)])
    result = evaluate(TERMS, [bands])
    assert result.winner.unit_price == 700


def test_all_over_ceiling_is_reported_for_a_rebid():
    result = evaluate(TERMS, [bid("a", 1_100), bid("b", 1_200)])
    assert result.winner is None
    assert result.all_over_ceiling


def test_a_tie_is_settled_by_a_replayable_draw():
    bids = [bid("a", 800), bid("b", 800), bid("c", 900)]
    first = evaluate(TERMS, bids, seed=42)
    assert first.draw.tied == ("a", "b")
    assert first.winner.key == first.draw.winner == lottery(["b", "a"], 42).winner
    assert first.ranked[2].key == "c"
    winners = {evaluate(TERMS, bids, seed=s).winner.key for s in range(40)}
    assert winners == {"a", "b"}  # the draw is not rigged towards one key


def test_weighted_scoring_can_prefer_a_better_proposal_at_a_higher_price():
    terms = TenderTerms(100, 1_000, None, WEIGHTED, price_weight=40, technical_weight=60)
    result = evaluate(terms, [bid("cheap", 700, tech=50), bid("good", 800, tech=95)])
    assert result.winner.key == "good"
    cheap = next(e for e in result.ranked if e.key == "cheap")
    assert cheap.price_points == 40 and cheap.technical_points == 30


def test_weights_must_sum_to_100():
    with pytest.raises(ValueError):
        evaluate(TenderTerms(1, 1, None, WEIGHTED, 50, 40), [bid("a", 1, tech=1)])


def test_weighted_bid_without_technical_score_is_not_ranked():
    terms = TenderTerms(100, 1_000, None, WEIGHTED, 50, 50)
    result = evaluate(terms, [bid("a", 700), bid("b", 800, tech=60)])
    assert result.winner.key == "b"
    assert next(e for e in result.ranked if e.key == "a").invalid_reason == "no_technical_score"
