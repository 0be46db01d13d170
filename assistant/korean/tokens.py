"""Korean-aware tokenising for BM25 and sentence splitting, with Kiwi.

llama-index's default BM25 tokenizer stems English and splits on spaces, which finds
nothing in Korean (particles are glued to nouns: 연구소는, 연구소에서). Kiwi gives the
morphemes; we keep content morphemes and lower-cased Latin tokens.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

# Content tags: nouns, proper nouns, numerals, verb/adjective stems, roots, foreign words,
# numbers, hanja. Particles, endings and punctuation carry no topic.
CONTENT_TAGS = frozenset({"NNG", "NNP", "NR", "VV", "VA", "XR", "SL", "SN", "SH", "NNB"})
_DROP_NNB = frozenset({"것", "수", "등", "때", "중", "년", "월", "일", "개", "명"})
EN_STOPWORDS = frozenset(
    """a an the and or of to in on at for by with from as is are was were be been being it its
    this that these those which who whom what when where why how does do did has have had
    will would shall should can could may might must not no than then there their they them
    we our you your he she his her i me my about into over under per also such other more
    most any all each both either neither nor so if but up out""".split()
)
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9&|.\-]*[A-Za-z0-9]|[A-Za-z]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _kiwi():  # noqa: ANN202 - kiwipiepy has no stubs
    from kiwipiepy import Kiwi

    return Kiwi(num_workers=0)


def _latin_tokens(text: str) -> list[str]:
    out = []
    for m in _LATIN.finditer(text):
        tok = m.group(0).lower().strip(".-")
        if tok and tok not in EN_STOPWORDS:
            out.append(tok)
            # "ARMI|BioFabUSA" and "high-performance": index the parts as well.
            if "|" in tok or "-" in tok:
                out.extend(p for p in re.split(r"[|\-]", tok) if p and p not in EN_STOPWORDS)
    return out


def tokenize(text: str) -> list[str]:
    """BM25 tokens: Kiwi content morphemes for Korean, lower-cased words for Latin text."""
    if not text:
        return []
    if not _HANGUL.search(text):
        return _latin_tokens(text)
    tokens: list[str] = []
    with _lock:  # Kiwi instances are not documented as thread-safe
        morphs = _kiwi().tokenize(text)
    for t in morphs:
        if t.tag not in CONTENT_TAGS:
            continue
        if t.tag == "NNB" and t.form in _DROP_NNB:
            continue
        if t.tag == "SL":
            tokens.extend(_latin_tokens(t.form))
        else:
            tokens.append(t.form.lower())
    return tokens


@lru_cache(maxsize=8192)
def term_tokens(term: str) -> tuple[str, ...]:
    """Tokens of a glossary term (a small fixed set, so cached: Kiwi costs about 0.2 ms a call and
    an English question gets several expansion terms)."""
    return tuple(tokenize(term))


def split_sentences(text: str) -> list[str]:
    """Sentences of a Korean or English text (Kiwi handles both)."""
    text = text.strip()
    if not text:
        return []
    with _lock:
        sents = _kiwi().split_into_sents(text)
    out = [s.text.strip() for s in sents if s.text.strip()]
    return out or [text]


def nouns(text: str) -> list[str]:
    """Korean common and proper nouns of a text (what a question is about), Latin words aside."""
    if not _HANGUL.search(text):
        return []
    with _lock:
        morphs = _kiwi().tokenize(text)
    return [t.form for t in morphs if t.tag in ("NNG", "NNP") and len(t.form) >= 2]
