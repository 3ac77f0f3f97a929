"""Recommendations → CDS Hooks cards; wording per locale."""

from __future__ import annotations

from cards.build import CardOptions, build_card, build_cards

__all__ = ["CardOptions", "build_card", "build_cards"]
