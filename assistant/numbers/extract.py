"""Find every number-bearing expression in a Korean or English text (:func:`find_quantities`).

Rules run in priority order over a working copy of the text; a claimed span is blanked so later,
looser rules cannot re-read it. Citations, ids and labels that hold digits but are not facts
(``Pub. L. 113-235``, ``15 U.S.C. § 278s``, ``Table 2``, report numbers) are claimed and dropped;
the corpus-specific ones are data (``corpus/lexicon/numbers.yaml``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from assistant.knowledge.data import load_yaml
from assistant.korean.units import JO as _JO  # noqa: F401
from assistant.korean.units import KO_AMOUNT as _KO_AMOUNT
from assistant.korean.units import KO_BIG as _KO_BIG
from assistant.korean.units import KO_COUNTER as _KO_COUNTER
from assistant.korean.units import KO_GROUP_RX as _KO_GROUP_RX
from assistant.korean.units import KO_NATIVE as _KO_NATIVE
from assistant.korean.units import KO_SMALL as _KO_SMALL
from assistant.numbers.quantity import (
    COUNT,
    EUR,
    FRACTION,
    NUM,
    PERCENT,
    RATIO,
    USD,
    YEAR,
    Quantity,
)

# --------------------------------------------------------------------------- regex parts

_NUM = NUM
# A number must not continue a word, a decimal, or a code such as "COVID-19" / "24/7".
_LB = r"(?<![\w.,%])(?<![A-Za-z가-힣\d][-–/])"
# ... and must not be cut out of a longer number.
_RB = r"(?!\d)(?!\.\d)(?!,\d{3}(?!\d))"
_DASH = r"[–—~〜～-]"
_YEAR4 = r"(?:1[89]\d\d|20\d\d)"

_EN_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_ABBR_SCALES = {"k": 1e3, "m": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9, "tn": 1e12}
_SCALE = r"(?:\s?(?i:thousand|million|billion|trillion)\b|\s?(?i:mn|bn|tn)\b|[kKMB]\b)"


_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
    "july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
MONTH_NAMES = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
# Case-sensitive on purpose: "may" the verb must not start a date.
_MONTH = (
    r"(?P<mon>January|February|March|April|May|June|July|August|September|October|November"
    r"|December|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)"
)

_WORD_UNITS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_ONES = "one|two|three|four|five|six|seven|eight|nine"
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
# "one" alone is left out: it is mostly a pronoun ("one of the institutes").
_WORD_NUM = (
    rf"(?:(?:{_TENS})(?:[-\s](?:{_ONES})\b)?|eleven|twelve|thirteen|fourteen|fifteen"
    r"|sixteen|seventeen|eighteen|nineteen|two|three|four|five|six|seven|eight|nine|ten)"
)
_WORD_NUM_OR_ONE = rf"(?:{_WORD_NUM}|one)"
_NUMW = rf"(?:{_NUM}|(?i:{_WORD_NUM_OR_ONE}))"


_FRAC_DEN = {
    "half": 2, "halves": 2, "third": 3, "quarter": 4, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip
_FRAC_NUMER = {"a": 1, "one": 1, **{k: v for k, v in _WORD_UNITS.items() if v < 10}}


# --------------------------------------------------------------------------- helpers


def _dec(s: str) -> Decimal:
    return Decimal(s.replace(",", ""))


def _word_value(word: str) -> int:
    """Value of an English number word such as "seventeen" or "twenty-one"."""
    parts = re.split(r"[-\s]+", word.lower())
    ones = {"one": 1, **_WORD_UNITS}
    return sum(ones[p] for p in parts)


def _numw_value(s: str) -> Decimal:
    return _dec(s) if s[0].isdigit() else Decimal(_word_value(s))


def _ko_amount_value(s: str) -> tuple[Decimal, bool]:
    """Value of "3억 700만" -> 307000000; also says whether any Korean unit was used."""
    total = Decimal(0)
    has_unit = False
    for m in _KO_GROUP_RX.finditer(s):
        n = _dec(m.group(1))
        if m.group(2):
            n *= _KO_SMALL[m.group(2)]
            has_unit = True
        if m.group(3):
            n *= _KO_BIG[m.group(3)]
            has_unit = True
        total += n
    return total, has_unit


def _last_ko_multiplier(s: str) -> int:
    """Multiplier of the last group ("1,500억" -> 10**8), inherited by "1,250~1,500억"."""
    m = list(_KO_GROUP_RX.finditer(s))[-1]
    mult = 1
    if m.group(2):
        mult *= _KO_SMALL[m.group(2)]
    if m.group(3):
        mult *= _KO_BIG[m.group(3)]
    return mult


def _scale_value(sc: str | None) -> float:
    if not sc:
        return 1.0
    sc = sc.strip().lower()
    return _EN_SCALES.get(sc) or _ABBR_SCALES[sc]


def _is_year_like(s: str) -> bool:
    return s.isdigit() and len(s) == 4 and 1800 <= int(s) <= 2099


def _cur_unit(cur: str) -> str:
    c = cur.lower()
    return EUR if ("€" in c or "eur" in c or "유로" in c) else USD


class _NoMatch:
    """Handler result: leave the span unclaimed so later rules may still match it."""


_NO = _NoMatch()
_Result = Quantity | None | _NoMatch
_Handler = Callable[[re.Match[str], str], _Result]


def _q(
    m: re.Match[str],
    text: str,
    value: float | Decimal | Fraction,
    unit: str | None,
    upper: float | None = None,
    month: int | None = None,
    day: int | None = None,
) -> Quantity:
    s, e = m.start(), m.end()
    return Quantity(float(value), unit, text[s:e], s, e, upper, month, day)


def _skip(m: re.Match[str], text: str) -> _Result:
    return None


# --------------------------------------------------------------------------- handlers


def _h_year_group(m: re.Match[str], text: str) -> _Result:
    y = m.group("y")
    if len(y) == 2:  # FY22
        y = "20" + y
    return _q(m, text, int(y), YEAR)


def _h_date(m: re.Match[str], text: str) -> _Result:
    gd = m.groupdict()
    mon = gd.get("mon")
    month = None
    if mon:
        month = int(mon) if mon.isdigit() else _MONTHS[mon.rstrip(".").lower()]
    day = int(gd["day"]) if gd.get("day") else None
    if (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
        return _NO
    return _q(m, text, int(gd["year"]), YEAR, month=month, day=day)


def _h_en_money_range(m: re.Match[str], text: str) -> _Result:
    hi_sc = _scale_value(m.group("hsc"))
    lo_sc = _scale_value(m.group("lsc")) if m.group("lsc") else hi_sc
    lo = float(_dec(m.group("lo"))) * lo_sc
    hi = float(_dec(m.group("hi"))) * hi_sc
    if not lo < hi:
        return _NO
    return _q(m, text, lo, _cur_unit(m.group("cur")), upper=hi)


def _h_en_money(m: re.Match[str], text: str) -> _Result:
    value = float(_dec(m.group("n"))) * _scale_value(m.group("sc"))
    return _q(m, text, value, _cur_unit(m.group("cur")))


def _h_ko_money_range(m: re.Match[str], text: str) -> _Result:
    hi, _ = _ko_amount_value(m.group("hi"))
    lo, lo_units = _ko_amount_value(m.group("lo"))
    if not lo_units:
        lo *= _last_ko_multiplier(m.group("hi"))
    if not lo < hi:
        return _NO
    unit = _cur_unit(m.group("cur")) if m.group("cur") else None
    return _q(m, text, lo, unit, upper=float(hi))


def _h_ko_amount(m: re.Match[str], text: str) -> _Result:
    value, _ = _ko_amount_value(m.group("amt"))
    if m.group("cur"):
        unit: str | None = _cur_unit(m.group("cur"))
    else:
        unit = COUNT if m.group("ctr") else None
    return _q(m, text, value, unit)


def _h_ko_plain_money(m: re.Match[str], text: str) -> _Result:
    return _q(m, text, _dec(m.group("n")), _cur_unit(m.group("cur")))


def _h_percent_range(m: re.Match[str], text: str) -> _Result:
    lo, hi = _dec(m.group("lo")), _dec(m.group("hi"))
    if not lo < hi:
        return _NO
    return _q(m, text, lo, PERCENT, upper=float(hi))


def _h_percent(m: re.Match[str], text: str) -> _Result:
    return _q(m, text, _dec(m.group("n")), PERCENT)


def _h_ratio(m: re.Match[str], text: str) -> _Result:
    a, b = _numw_value(m.group("a")), _numw_value(m.group("b"))
    if b == 0:
        return _NO
    return _q(m, text, a / b, RATIO)


def _h_to(m: re.Match[str], text: str) -> _Result:
    """A ratio for "3 to 1", a range for "14 to 17" / "five to seven years"."""
    a, b = _numw_value(m.group("a")), _numw_value(m.group("b"))
    if b == 1 and a >= 1:
        return _q(m, text, a, RATIO)
    if a < b:
        return _range_quantity(m, text, m.group("a"), m.group("b"), a, b)
    return _NO


def _h_dash_range(m: re.Match[str], text: str) -> _Result:
    a, b = _dec(m.group("a")), _dec(m.group("b"))
    if not a < b:
        return _NO
    return _range_quantity(m, text, m.group("a"), m.group("b"), a, b)


def _range_quantity(
    m: re.Match[str], text: str, sa: str, sb: str, a: Decimal, b: Decimal
) -> Quantity:
    if _is_year_like(sa) and _is_year_like(sb):
        return _q(m, text, a, YEAR, upper=float(b))
    unit = COUNT if m.groupdict().get("u") else None
    return _q(m, text, a, unit, upper=float(b))


def _h_frac_ko(m: re.Match[str], text: str) -> _Result:
    d, n = int(m.group("d")), int(m.group("n"))
    if d == 0 or n > d:
        return _NO
    return _q(m, text, Fraction(n, d), FRACTION)


def _h_frac_digits(m: re.Match[str], text: str) -> _Result:
    n, d = int(m.group("n")), int(m.group("d"))
    if not 0 < n < d:
        return _NO
    return _q(m, text, Fraction(n, d), FRACTION)


def _h_frac_words(m: re.Match[str], text: str) -> _Result:
    n = _FRAC_NUMER[m.group("n").lower()]
    den = m.group("d").lower()
    d = _FRAC_DEN[den[:-1] if den.endswith("s") and den != "halves" else den]
    if n >= d:
        return _NO
    return _q(m, text, Fraction(n, d), FRACTION)


def _h_half(m: re.Match[str], text: str) -> _Result:
    return _q(m, text, 0.5, FRACTION)


def _h_plain_scale(m: re.Match[str], text: str) -> _Result:
    return _q(m, text, float(_dec(m.group("n"))) * _scale_value(m.group("sc")), None)


def _h_words(m: re.Match[str], text: str) -> _Result:
    return _q(m, text, _word_value(m.group("w")) * _scale_value(m.group("sc")), COUNT)


def _h_ko_native(m: re.Match[str], text: str) -> _Result:
    return _q(m, text, _KO_NATIVE[m.group("w")], COUNT)


def _h_plain(m: re.Match[str], text: str) -> _Result:
    s = m.group("n")
    ctr = m.group("ctr")
    if "." in s and "," not in s and _is_year_like(s.split(".")[0]) and not ctr:
        # "in 2012.5 The ..." is a year followed by a footnote mark, not 2012.5.
        y = s.split(".")[0]
        return Quantity(float(y), YEAR, y, m.start(), m.start() + 4)
    value = _dec(s)
    if ctr == "년":
        return _q(m, text, value, YEAR if _is_year_like(s) else COUNT)
    if ctr or m.group("plus"):
        return _q(m, text, value, COUNT)
    if _is_year_like(s):
        return _q(m, text, value, YEAR)
    if re.match(r"\s+[A-Za-z]", text[m.end() : m.end() + 2]):
        return _q(m, text, value, COUNT)
    return _q(m, text, value, None)


# --------------------------------------------------------------------------- rules

_DATA = load_yaml("lexicon/numbers.yaml")
_EN_LABEL = r"(?:Strategic\s+)?(?:" + "|".join(re.escape(w) for w in _DATA["labels_en"]) + ")"
_LABEL_NUM = r"[A-Z]?\d+(?:\.\d+)*[a-z]?(?![\dA-Za-z])"
_LABEL_RANGE = rf"{_LABEL_NUM}(?:\s?[-–]\s?{_LABEL_NUM})?"
_KO_LABEL = r"(?:전략적\s?)?(?:" + "|".join(re.escape(w) for w in _DATA["labels_ko"]) + ")"

_RULES_SRC: list[tuple[str, int, _Handler]] = [
    # "mid-2023" before the code rule below swallows it.
    (rf"\b(?:mid|early|late)[-\s](?P<y>{_YEAR4})\b", re.I, _h_year_group),
    # "3-to-1" before the id rule below reads "to-1" as an id.
    (rf"(?<![\w.,])(?P<a>{_NUMW})-to-(?P<b>{_NUMW})\b", 0, _h_ratio),
    # ---- not facts: citation markers, URLs, statutes, ids, labels, enumerators
    (r"\[\s*[A-Za-z]{0,3}\d+(?:\s*[-–,]\s*[A-Za-z]{0,3}\d+)*\s*\]", 0, _skip),
    (r"(?:https?://|www\.)\S+", 0, _skip),
    *[(src, 0, _skip) for src in _DATA["citations"]],
    (r"\bFY\s?'?(?P<y>\d{4}|\d{2})(?![\d\w])", 0, _h_year_group),
    (r"\b[A-Za-z]+(?:[-–][A-Za-z]*\d+[A-Za-z]*)+", 0, _skip),  # GAO-22-103979, COVID-19, K-12
    *[(src, 0, _skip) for src in _DATA["report_numbers"]],
    (rf"\b{_EN_LABEL}s\s*{_LABEL_RANGE}(?:\s*(?:,|and|or|&)\s*{_LABEL_RANGE})*", re.I, _skip),
    (rf"\b{_EN_LABEL}\s*{_LABEL_RANGE}", re.I, _skip),
    (rf"(?<![가-힣]){_KO_LABEL}\s?{_LABEL_RANGE}(?:\s*(?:,|및|과|와)\s*{_LABEL_RANGE})*", 0, _skip),
    # 제7차, 제301조: ordinals and statute articles.
    (r"(?<![가-힣])제\s?\d+(?:\.\d+)*(?:\s?[가-힣]+)?", 0, _skip),
    (rf"{_LB}\d+(?:\s?(?:쪽|페이지|번째)|차(?=\s)|조(?!\s?(?:\d|원|달러|유로)))", 0, _skip),
    (r"\(\s?\d{1,2}\s?\)", 0, _skip),  # (1) enumerators
    (r"(?m)^[ \t]*\d{1,2}[.)](?=\s)", 0, _skip),  # "1. ..." / "1) ..." at line start
    (r"(?:(?<=\s)|^)\d{1,2}\)(?=\s)", 0, _skip),  # "1) 민간 ..." inline enumerators
    # ---- dates and years (the value is the year; month/day ride along)
    (rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>{_YEAR4})(?!\d)", 0, _h_date),
    (rf"(?<![\w.,])(?P<day>\d{{1,2}})\s+{_MONTH}\s+(?P<year>{_YEAR4})(?!\d)", 0, _h_date),
    (rf"\b{_MONTH}\s*,?\s+(?P<year>{_YEAR4})(?!\d)", 0, _h_date),
    (
        rf"(?<![\w./-])(?P<year>{_YEAR4})[-/.](?P<mon>0?[1-9]|1[0-2])[-/.](?P<day>\d{{1,2}})(?![\d])",
        0,
        _h_date,
    ),
    (rf"(?<![\w.,])(?P<year>{_YEAR4})\.\s?(?P<mon>\d{{1,2}})\.\s?(?P<day>\d{{1,2}})\.", 0, _h_date),
    (
        rf"(?<![\w.,])(?P<year>{_YEAR4})\s?년\s*(?P<mon>\d{{1,2}})\s?월(?:\s*(?P<day>\d{{1,2}})\s?일)?",
        0,
        _h_date,
    ),
    (rf"(?<![\w.,])(?P<mon>\d{{1,2}})\s?월\s*(?P<year>{_YEAR4})\s?년", 0, _h_date),
    (rf"(?i)\bfiscal\s+(?:years?\s+)?(?P<y>{_YEAR4})(?!\d)", 0, _h_year_group),
    (rf"(?<![\w.,])(?P<y>{_YEAR4})\s?회계\s?연도", 0, _h_year_group),
    # A day or month without a year only qualifies a date: not a fact to check.
    (rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?![,.]?\s?\d)", 0, _skip),
    (r"(?<![\w.,])\d{1,2}\s?월(?:\s*\d{1,2}\s?일)?", 0, _skip),
    # ---- money
    (
        rf"(?P<cur>U\.?S\.?\s?\$|\$|€|(?:USD|EUR)\s?)\s?(?P<lo>{_NUM})(?P<lsc>{_SCALE})?"
        rf"\s?(?:[–—~-]|to\b)\s?(?:U\.?S\.?\s?\$|\$|€|(?:USD|EUR)\s?)?\s?(?P<hi>{_NUM})(?P<hsc>{_SCALE})?"
        r"(?:\s(?i:dollars|euros)\b)?",
        0,
        _h_en_money_range,
    ),
    (
        rf"(?P<cur>U\.?S\.?\s?\$|\$|€|(?:USD|EUR)\s?)\s?(?P<n>{_NUM}){_RB}(?P<sc>{_SCALE})?"
        r"(?:\s(?i:dollars|euros)\b)?",
        0,
        _h_en_money,
    ),
    (
        rf"{_LB}(?P<n>{_NUM}){_RB}(?P<sc>{_SCALE})?\s?(?P<cur>(?i:U\.S\.\s+dollars?|dollars?|euros?)\b|USD\b|EUR\b)",
        0,
        _h_en_money,
    ),
    (
        rf"{_LB}(?P<lo>{_KO_AMOUNT}|{_NUM})\s?{_DASH}\s?(?P<hi>{_KO_AMOUNT})(?:\s?(?:미국\s?)?(?P<cur>달러|유로))?",
        0,
        _h_ko_money_range,
    ),
    (
        rf"{_LB}(?P<amt>{_KO_AMOUNT}){_RB}(?:\s?(?:미국\s?)?(?P<cur>달러|유로)|(?P<ctr>\s?(?:명|개|곳|건|가지)))?",
        0,
        _h_ko_amount,
    ),
    (rf"{_LB}(?P<n>{_NUM}){_RB}\s?(?P<cur>달러|유로)", 0, _h_ko_plain_money),
    # ---- percentages
    (
        rf"{_LB}(?P<lo>{_NUM})\s?%?\s?(?:{_DASH}|to\b)\s?(?P<hi>{_NUM}){_RB}\s?"
        r"(?:%|(?i:percent|per\s+cent)\b|퍼센트)",
        0,
        _h_percent_range,
    ),
    (
        rf"{_LB}(?P<n>{_NUM}){_RB}\s?(?:%p?|(?i:percent(?:age\s+points?)?|per\s+cent)\b|퍼센트(?:\s?포인트)?)",
        0,
        _h_percent,
    ),
    # ---- ratios and fractions
    # "19:30" is a clock time; ratios in this corpus have a one-digit second term.
    (r"(?<![\w.,:])(?:[01]?\d|2[0-4]):[0-5]\d(?![\d:])", 0, _skip),
    (rf"{_LB}(?P<a>{_NUM})\s?:\s?(?P<b>{_NUM}){_RB}(?![:\d])", 0, _h_ratio),
    (rf"{_LB}(?P<a>{_NUM})\s?대\s?(?P<b>{_NUM}){_RB}", 0, _h_ratio),
    (rf"{_LB}(?P<d>\d+)\s?분의\s?(?P<n>\d+){_RB}", 0, _h_frac_ko),
    (r"(?<![\w./])(?P<n>\d)/(?P<d>\d{1,2})(?![\d/])", 0, _h_frac_digits),
    (
        rf"\b(?P<n>a|one|{'|'.join(k for k in _FRAC_NUMER if k not in ('a', 'one'))})[-\s]"
        r"(?P<d>halves|half|thirds?|quarters?|fourths?|fifths?|sixths?|sevenths?|eighths?|ninths?|tenths?)\b",
        re.I,
        _h_frac_words,
    ),
    (r"(?<!first )(?<!second )(?<!last )\bhalf\b(?![-‐])", re.I, _h_half),
    (r"절반", 0, _h_half),
    # ---- ranges
    (
        rf"(?<![\w.,])(?P<a>{_NUMW})\s+to\s+(?P<b>{_NUMW}){_RB}(?![A-Za-z-])"
        r"(?:\s?(?P<u>(?i:years?|months?|weeks?|days?|hours?)\b|년|개월|주|일|시간|개|명|곳|가지))?",
        0,
        _h_to,
    ),
    (
        rf"{_LB}(?P<a>{_NUM})\s?{_DASH}\s?(?P<b>{_NUM}){_RB}(?![A-Za-z])"
        r"(?:\s?(?P<u>(?i:years?|months?|weeks?|days?|hours?)\b|년|개월|주|일|시간|개|명|곳|가지))?",
        0,
        _h_dash_range,
    ),
    # ---- plain numbers
    (
        rf"{_LB}(?P<n>{_NUM}){_RB}\s?(?P<sc>(?i:thousand|million|billion|trillion))\b",
        0,
        _h_plain_scale,
    ),
    (rf"(?<![\w-])(?P<w>(?i:{_WORD_NUM}))\b(?P<sc>\s(?i:thousand|million|billion))?", 0, _h_words),
    (
        r"(?<![가-힣])(?P<w>두|세|네|다섯|여섯|일곱|여덟|아홉|열)(?=\s?(?:가지|개|명|곳|번(?!째)|차례))",
        0,
        _h_ko_native,
    ),
    (rf"{_LB}(?P<n>{_NUM}){_RB}(?![A-Za-z])(?P<plus>\+)?(?P<ctr>{_KO_COUNTER})?", 0, _h_plain),
]

_RULES: list[tuple[re.Pattern[str], _Handler]] = [
    (re.compile(src, flags), handler) for src, flags, handler in _RULES_SRC
]


# --------------------------------------------------------------------------- finding


_WORD_RX = re.compile(r"\w")


@lru_cache(maxsize=1024)
def _scan(text: str) -> tuple[Quantity, ...]:
    # Rules run in priority order; each claimed span is blanked out of the working copy
    # (same length, so offsets stay valid) so later, looser rules cannot re-read it.
    # Word characters become "_" rather than vanishing, so "회계연도32" still reads as
    # glued to a word and its footnote mark 32 is not taken for a number.
    work = text
    found: list[Quantity] = []
    for rx, handler in _RULES:
        claimed: list[tuple[int, int]] = []
        for m in rx.finditer(work):
            res = handler(m, text)
            if isinstance(res, _NoMatch):
                continue
            claimed.append((m.start(), m.end()))
            if res is not None:
                found.append(res)
        if claimed:
            parts: list[str] = []
            pos = 0
            for s, e in claimed:
                parts.append(work[pos:s])
                parts.append(_WORD_RX.sub("_", work[s:e]))
                pos = e
            parts.append(work[pos:])
            work = "".join(parts)
    found.sort(key=lambda q: q.start)
    return tuple(found)


def find_quantities(text: str) -> list[Quantity]:
    """Every number-bearing expression in ``text`` (Korean or English), in order.

    Citation markers, section/table/figure/page labels, statute citations and ids
    such as "COVID-19" are recognised but not returned: they are not facts.
    """
    return list(_scan(text))
