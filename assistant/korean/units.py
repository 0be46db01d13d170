"""Korean number words: 만/억/조 units, native numerals, counters (used by assistant.numbers)."""

from __future__ import annotations

import re

from assistant.numbers.quantity import NUM

KO_BIG = {"만": 10**4, "억": 10**8, "조": 10**12}
KO_SMALL = {"십": 10, "백": 100, "천": 1000}
# 조 is also "article" (무역법 301조), so it only counts as trillion before money or more digits.
JO = r"조(?=\s?(?:\d|달러|유로|원))"
KO_GROUP = rf"{NUM}(?:[십백천](?:[만억]|{JO})?|[만억]|{JO})"
KO_AMOUNT = rf"{KO_GROUP}(?:\s?{KO_GROUP})*"
KO_GROUP_RX = re.compile(rf"({NUM})([십백천])?([만억조])?")
KO_UNIT_RX = re.compile(r"\d\s?(?:[십백천][만억조]?|[만억조])")

KO_COUNTER = (
    r"(?:개국|개사|개소|개월|개년|개|명|가지|곳|건|회|번(?!째)|차례|배|대(?!\s?\d)|종|편|권"
    r"|주|일|시간|년|달(?!러)|팀|위)"
)


KO_NATIVE = {
    "두": 2,
    "세": 3,
    "네": 4,
    "다섯": 5,
    "여섯": 6,
    "일곱": 7,
    "여덟": 8,
    "아홉": 9,
    "열": 10,
}
