"""Opening and evaluation (開札): validity against the secret prices, ranking, and the lottery.

Pure functions over plain values: the services load bids, call `evaluate`, and store the result.

- A bid's unit price is its price for the band that the pooled quantity falls in.
- A bid above the ceiling (予定価格) or below the minimum (最低制限価格) is invalid, with a reason.
- Lowest price: valid bids rank by total (unit price × pooled quantity + one-off fee).
- 総合評価 (weighted, 加算方式): price points = price weight × lowest valid total ÷ bid total;
  technical points = technical weight × evaluator score ÷ 100; rank by the sum.
- Ties for first place are settled by a random draw (くじ) whose seed is recorded, so anyone can
  replay it: `random.Random(seed).shuffle(sorted(tied keys))` puts the winner first.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from procurement.allocation import Band, band_price

LOWEST_PRICE = "lowest_price"
WEIGHTED = "weighted"  # 総合評価


@dataclass(frozen=True)
class BidInput:
    key: str  # the bidding vendor
    bands: Sequence[Band]  # one band with min_quantity 1 when the tender has no volume bands
    one_off_fee: int = 0
    technical_score: int | None = None  # 0–100, entered by the operator's evaluators


@dataclass(frozen=True)
class TenderTerms:
    quantity: int  # pooled demand
    ceiling_unit_price: int
    minimum_unit_price: int | None = None
    criteria: str = LOWEST_PRICE
    price_weight: int = 100
    technical_weight: int = 0


@dataclass(frozen=True)
class Evaluated:
    key: str
    unit_price: int
    total: int
    valid: bool
    invalid_reason: str | None = None  # "over_ceiling" | "below_minimum" | "no_technical_score"
    price_points: Fraction = Fraction(0)
    technical_points: Fraction = Fraction(0)
    rank: int | None = None

    @property
    def score(self) -> Fraction:
        return self.price_points + self.technical_points


@dataclass(frozen=True)
class Draw:
    tied: tuple[str, ...]
    seed: int
    winner: str


@dataclass(frozen=True)
class Evaluation:
    ranked: list[Evaluated]  # valid bids by rank, then invalid ones
    draw: Draw | None = None
    all_over_ceiling: bool = False

    @property
    def winner(self) -> Evaluated | None:
        return self.ranked[0] if self.ranked and self.ranked[0].valid else None


def evaluate(terms: TenderTerms, bids: Sequence[BidInput], seed: int | None = None) -> Evaluation:
    if terms.criteria == WEIGHTED and terms.price_weight + terms.technical_weight != 100:
        raise ValueError("price and technical weights must sum to 100")
    checked = [_check(terms, bid) for bid in bids]
    valid = [e for e in checked if e.valid]
    invalid = sorted((e for e in checked if not e.valid), key=lambda e: (e.total, e.key))
    if not valid:
        over = bool(checked) and all(e.invalid_reason == "over_ceiling" for e in checked)
        return Evaluation(ranked=invalid, all_over_ceiling=over)
    if terms.criteria == WEIGHTED:
        lowest = min(e.total for e in valid)
        valid = [_with_points(terms, e, lowest, bids) for e in valid]
        best_first = sorted(valid, key=lambda e: (-e.score, e.total, e.key))
        tie_key = best_first[0].score
        tied = [e.key for e in best_first if e.score == tie_key]
    else:
        best_first = sorted(valid, key=lambda e: (e.total, e.key))
        tied = [e.key for e in best_first if e.total == best_first[0].total]
    draw = None
    if len(tied) > 1:
        draw = lottery(tied, secrets.randbits(63) if seed is None else seed)
        best_first.sort(key=lambda e: e.key != draw.winner)  # stable: winner first, rest as ranked
    ranked = [replace(e, rank=i + 1) for i, e in enumerate(best_first)]
    return Evaluation(ranked=ranked + invalid, draw=draw)


def lottery(tied: Sequence[str], seed: int) -> Draw:
    order = sorted(tied)
    random.Random(seed).shuffle(order)  # a replayable public draw, not a secret
    return Draw(tied=tuple(sorted(tied)), seed=seed, winner=order[0])


def _check(terms: TenderTerms, bid: BidInput) -> Evaluated:
    unit = band_price(bid.bands, terms.quantity)
    total = unit * terms.quantity + bid.one_off_fee
    reason = None
    if unit > terms.ceiling_unit_price:
        reason = "over_ceiling"
    elif terms.minimum_unit_price is not None and unit < terms.minimum_unit_price:
        reason = "below_minimum"
    elif terms.criteria == WEIGHTED and bid.technical_score is None:
        reason = "no_technical_score"
    return Evaluated(
        key=bid.key, unit_price=unit, total=total, valid=reason is None, invalid_reason=reason
    )


def _with_points(
    terms: TenderTerms, e: Evaluated, lowest: int, bids: Sequence[BidInput]
) -> Evaluated:
    score = next(b.technical_score for b in bids if b.key == e.key) or 0
    return replace(
        e,
        price_points=Fraction(terms.price_weight * lowest, e.total),
        technical_points=Fraction(terms.technical_weight * score, 100),
    )
