"""Compare quantities across languages: same value in compatible units (0.5% tolerance)."""

from __future__ import annotations

from dataclasses import replace

from assistant.numbers.extract import _scan, find_quantities
from assistant.numbers.quantity import FRACTION, PERCENT, PLAIN_UNITS, REL_TOL, YEAR, Quantity

# --------------------------------------------------------------------------- comparing


def _units_compatible(a: Quantity, b: Quantity) -> bool:
    ua, ub = a.unit, b.unit
    if ua == ub or (ua in PLAIN_UNITS and ub in PLAIN_UNITS):
        return True
    pair = {ua, ub}
    if YEAR in pair:
        # A bare "2012" may be read as a plain number on one side only.
        other = b if ua == YEAR else a
        return other.unit in PLAIN_UNITS and other.upper is None and 1000 <= other.value <= 2999
    if FRACTION in pair:
        return (pair - {FRACTION}) <= {PERCENT, None}
    return False


def _close(x: float, y: float, exact: bool) -> bool:
    if exact:
        return round(x) == round(y)
    return abs(x - y) <= REL_TOL * max(abs(x), abs(y)) or x == y


def _scaled(q: Quantity, other: Quantity) -> tuple[float, float | None]:
    # Fractions compare with percentages on the percent scale ("4분의 3" vs "75%").
    if q.unit == FRACTION and other.unit == PERCENT:
        return q.value * 100, None if q.upper is None else q.upper * 100
    return q.value, q.upper


def same_quantity(a: Quantity, b: Quantity) -> bool:
    """Same value (0.5% relative tolerance, years exact) in compatible units.

    A range matches an identical range or a single value inside it.
    """
    if not _units_compatible(a, b):
        return False
    exact = YEAR in (a.unit, b.unit)
    a_lo, a_hi = _scaled(a, b)
    b_lo, b_hi = _scaled(b, a)
    if a_hi is not None and b_hi is not None:
        return _close(a_lo, b_lo, exact) and _close(a_hi, b_hi, exact)
    if a_hi is None and b_hi is None:
        return _close(a_lo, b_lo, exact)
    (lo, hi), x = ((a_lo, a_hi), b_lo) if a_hi is not None else ((b_lo, b_hi), a_lo)
    assert hi is not None
    return _close(x, lo, exact) or _close(x, hi, exact) or lo <= x <= hi


def _supported(q: Quantity, pool: list[Quantity]) -> bool:
    if q.upper is None:
        return any(same_quantity(q, s) for s in pool)
    # A range claimed by the answer needs the same range, or both ends, in the sources:
    # a single source value inside it would not back "5–7 years".
    if any(s.upper is not None and same_quantity(q, s) for s in pool):
        return True
    lo = replace(q, upper=None)
    hi = replace(q, value=q.upper, upper=None)
    return any(s.upper is None and same_quantity(lo, s) for s in pool) and any(
        s.upper is None and same_quantity(hi, s) for s in pool
    )


def unsupported_quantities(sentence: str, sources: list[str]) -> tuple[int, list[str]]:
    """(number of quantities checked in ``sentence``, raw text of those found in no source)."""
    checked = find_quantities(sentence)
    if not checked:
        return 0, []
    pool = [q for src in sources for q in _scan(src)]
    return len(checked), [q.raw for q in checked if not _supported(q, pool)]
