"""The tender routes' ids for the sweep (see tender_ids.py)."""

from tests.isolation.tender_ids import make_tender_ids as make_ids

__all__ = ["make_ids"]
