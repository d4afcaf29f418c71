"""How an award is split between the municipalities of a joint procurement.

Every participant pays the winning unit price for its own quantity. A one-off fee is shared in
proportion to quantity by the largest-remainder method, so the shares are whole yen and add up to
the fee exactly; leftover yen go to the largest fractional remainders, ties to the larger quantity
and then to the earlier key, so the split is deterministic.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
MAX_YEN = 10**13  # ¥10 trillion: far above any municipal contract, far below int64


@dataclass(frozen=True)
class Band:
    """Unit price that applies when the pooled quantity is at least `min_quantity`."""

    min_quantity: int
    unit_price: int


def band_price(bands: Sequence[Band], quantity: int) -> int:
    """The unit price for `quantity`: the band with the largest threshold not above it."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    eligible = [b for b in bands if b.min_quantity <= quantity]
    if not eligible:
        raise ValueError(f"no band covers a quantity of {quantity}")
    return max(eligible, key=lambda b: b.min_quantity).unit_price


def split_fee(fee: int, quantities: Mapping[K, int]) -> dict[K, int]:
    """Shares of `fee` proportional to `quantities`, in whole yen, summing exactly to `fee`."""
    if fee < 0:
        raise ValueError("fee must not be negative")
    total = sum(quantities.values())
    if total <= 0 or any(q <= 0 for q in quantities.values()):
        raise ValueError("quantities must be positive")
    order = list(quantities)
    floors = {k: fee * q // total for k, q in quantities.items()}
    remainders = {k: fee * q % total for k, q in quantities.items()}
    leftover = fee - sum(floors.values())
    ranked = sorted(order, key=lambda k: (-remainders[k], -quantities[k], order.index(k)))
    for k in ranked[:leftover]:
        floors[k] += 1
    return floors


@dataclass(frozen=True)
class Participant:
    key: Hashable
    quantity: int
    estimated_unit_price: int  # the participant's own budget per unit


@dataclass(frozen=True)
class ContractLine:
    key: Hashable
    quantity: int
    unit_price: int
    goods_amount: int  # quantity × unit price
    fee_share: int
    total: int
    estimated_total: int  # what the participant budgeted: quantity × own estimate
    saving: int  # estimated_total - total (negative when the pooled price is above budget)
    alone_unit_price: int | None  # the band price at its own volume, when the bid had bands
    alone_total: int | None
    saving_from_pooling: int | None  # alone_total - total


def contract_lines(
    participants: Sequence[Participant],
    unit_price: int,
    fee: int = 0,
    bands: Sequence[Band] = (),
) -> list[ContractLine]:
    """One line per participant at the pooled unit price, with its fee share and savings."""
    shares = split_fee(fee, {p.key: p.quantity for p in participants}) if fee else {}
    lines = []
    for p in participants:
        goods = p.quantity * unit_price
        share = shares.get(p.key, 0)
        total = goods + share
        estimated = p.quantity * p.estimated_unit_price
        alone_price = band_price(bands, p.quantity) if bands else None
        # Alone, the participant would have borne the whole one-off fee.
        alone_total = p.quantity * alone_price + fee if alone_price is not None else None
        lines.append(
            ContractLine(
                key=p.key,
                quantity=p.quantity,
                unit_price=unit_price,
                goods_amount=goods,
                fee_share=share,
                total=total,
                estimated_total=estimated,
                saving=estimated - total,
                alone_unit_price=alone_price,
                alone_total=alone_total,
                saving_from_pooling=alone_total - total if alone_total is not None else None,
            )
        )
    return lines
