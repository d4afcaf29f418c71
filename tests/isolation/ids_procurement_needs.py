"""The needs routes' ids for the sweep (see procurement_ids.py)."""

from tests.isolation.procurement_ids import make_procurement_ids as make_ids

__all__ = ["make_ids"]
