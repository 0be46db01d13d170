"""Render quantities in English and Korean, and annotate Korean amounts with their English form."""

from __future__ import annotations

import re
from fractions import Fraction

from assistant.korean.units import KO_UNIT_RX as _KO_UNIT_RX
from assistant.numbers.extract import MONTH_NAMES as _MONTH_NAMES
from assistant.numbers.extract import find_quantities
from assistant.numbers.quantity import FRACTION, MONEY_UNITS, PERCENT, RATIO, USD, YEAR, Quantity

# --------------------------------------------------------------------------- formatting


def _fmt_num(x: float) -> str:
    if abs(x - round(x)) < 1e-9:
        return f"{round(x):,}"
    return f"{x:,.6f}".rstrip("0").rstrip(".")


def _en_money(x: float, sym: str) -> str:
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if abs(x) >= scale:
            return f"{sym}{_fmt_num(x / scale)} {word}"
    return f"{sym}{_fmt_num(x)}"


def _en_one(q: Quantity, x: float) -> str:
    if q.unit in MONEY_UNITS:
        return _en_money(x, "$" if q.unit == USD else "€")
    if q.unit == PERCENT:
        return f"{_fmt_num(x)}%"
    if q.unit == RATIO:
        return f"{_fmt_num(x)}:1"
    if q.unit == YEAR:
        return str(round(x))
    if q.unit == FRACTION:
        f = Fraction(x).limit_denominator(12)
        return f"{f.numerator}/{f.denominator}"
    return _fmt_num(x)


def format_en(q: Quantity) -> str:
    """English rendering: "$307 million", "€114 million", "2,500", "63%", "2.8:1"."""
    if q.upper is not None:
        return f"{_en_one(q, q.value)}–{_en_one(q, q.upper)}"
    if q.unit == YEAR and q.month:
        name = _MONTH_NAMES[q.month - 1]
        if q.day:
            return f"{name} {q.day}, {round(q.value)}"
        return f"{name} {round(q.value)}"
    return _en_one(q, q.value)


def _ko_amount(x: float) -> str:
    """307e6 -> "3억 700만"; falls back to digits for small or fractional amounts."""
    if abs(x - round(x)) > 1e-6 or abs(x) < 10_000:
        return _fmt_num(x)
    n = round(x)
    parts = []
    for unit, size in (("조", 10**12), ("억", 10**8), ("만", 10**4)):
        k = n // size if unit == "조" else (n // size) % 10_000
        if k:
            parts.append(f"{k:,}{unit}")
    if n % 10_000:
        parts.append(f"{n % 10_000:,}")
    return " ".join(parts)


def _ko_one(q: Quantity, x: float) -> str:
    if q.unit in MONEY_UNITS:
        return _ko_amount(x)
    if q.unit == PERCENT:
        return f"{_fmt_num(x)}%"
    if q.unit == RATIO:
        return f"{_fmt_num(x)}:1"
    if q.unit == YEAR:
        return str(round(x))
    if q.unit == FRACTION:
        f = Fraction(x).limit_denominator(12)
        return f"{f.denominator}분의 {f.numerator}"
    return _fmt_num(x)


def format_ko(q: Quantity) -> str:
    """Korean rendering: "3억 700만 달러", "7,000만 달러", "2,500", "63%", "2012년"."""
    text = _ko_one(q, q.value)
    if q.upper is not None:
        text = f"{text}~{_ko_one(q, q.upper)}"
    if q.unit in MONEY_UNITS:
        return f"{text} {'달러' if q.unit == USD else '유로'}"
    if q.unit == YEAR:
        text += "년"
        if q.upper is None and q.month:
            text += f" {q.month}월" + (f" {q.day}일" if q.day else "")
    return text


def _ko_amounts(text: str, replace: bool) -> str:
    out: list[str] = []
    pos = 0
    for q in find_quantities(text):
        if q.unit in (PERCENT, YEAR, RATIO, FRACTION) or not _KO_UNIT_RX.search(q.raw):
            continue
        if re.match(r"\s*\(=", text[q.end :]):
            continue
        out.append(text[pos : q.start] if replace else text[pos : q.end])
        out.append(format_en(q) if replace else f"(= {format_en(q)})")
        pos = q.end
    out.append(text[pos:])
    return "".join(out)


def annotate_ko(text: str) -> str:
    """Append "(= $307 million)" after every amount written with 만/억/조/천.

    Plain numbers, years and percentages are already unambiguous and are left alone.
    Idempotent: an amount already followed by "(=" is skipped.
    """
    return _ko_amounts(text, replace=False)


def english_amounts(text: str) -> str:
    """Every amount written with 만/억/조/천 replaced by its English form ("6,440억 달러" ->
    "$644 billion"): a small model converts 억 wrongly (to "$64.4 billion") but copies "$644
    billion" as it stands."""
    return _ko_amounts(text, replace=True)
