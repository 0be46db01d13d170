"""The typed result of number extraction: a :class:`Quantity` in base units."""

from __future__ import annotations

from dataclasses import dataclass

USD = "usd"
EUR = "eur"
PERCENT = "percent"
YEAR = "year"
RATIO = "ratio"
COUNT = "count"
FRACTION = "fraction"

MONEY_UNITS = frozenset({USD, EUR})
PLAIN_UNITS = frozenset({None, COUNT})
REL_TOL = 0.005


@dataclass(frozen=True)
class Quantity:
    """One number-bearing expression found in a text.

    ``value`` is in base units (dollars, percent points, the year, a:1 ratio value),
    ``upper`` is set for ranges, ``month``/``day`` for dates (``unit == "year"``).
    """

    value: float
    unit: str | None
    raw: str
    start: int
    end: int
    upper: float | None = None
    month: int | None = None
    day: int | None = None

    @property
    def is_range(self) -> bool:
        """True for ranges such as "5~7년" or "$125–150 billion"."""
        return self.upper is not None


# Digits as printed in both languages: "2,500", "1.9", "106,000".
NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
