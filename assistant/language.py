"""Detect the language of a question: Hangul check first, then langdetect.

langdetect alone calls short Korean-with-acronyms text or "ok" anything from Slovak to
Tagalog, and is non-deterministic unless seeded; a Hangul share decides Korean first.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_lock = threading.Lock()


@dataclass(frozen=True)
class Detected:
    answer_lang: str  # "en" or "ko": the language we answer in
    detected: str  # what detection said ("en", "ko", "ja", "es", "unknown", ...)
    supported: bool


def detect_language(text: str, default: str = "en") -> Detected:
    letters = _LETTER.findall(text)
    if not letters:
        return Detected(default, "unknown", True)
    hangul = len(_HANGUL.findall(text))
    if hangul >= 2 and hangul / len(letters) >= 0.2:
        return Detected("ko", "ko", True)
    if _KANA.search(text):
        return Detected("en", "ja", False)
    if len(_HAN.findall(text)) / len(letters) > 0.3:
        return Detected("en", "zh", False)
    words = re.findall(r"[A-Za-z]+", text)
    if len(words) < 4:
        # Too short for langdetect ("LIFT HQ?"): Latin letters -> English.
        return Detected("en" if words else default, "en" if words else "unknown", True)
    from langdetect import DetectorFactory, LangDetectException, detect_langs

    with _lock:
        DetectorFactory.seed = 0
        try:
            guesses = detect_langs(text)
        except LangDetectException:
            return Detected(default, "unknown", True)
    best = guesses[0]
    if best.lang == "en" or best.prob < 0.80:
        return Detected("en", "en", True)
    return Detected("en", best.lang, False)
