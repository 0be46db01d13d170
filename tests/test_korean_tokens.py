from assistant.korean.tokens import split_sentences, tokenize
from assistant.language import detect_language


def test_particles_are_stripped_and_nouns_kept():
    toks = tokenize("연구소는 연구소에서 연구소의 본사를")
    assert toks.count("연구소") == 3 and "본사" in toks
    assert not any(t in toks for t in ("는", "에서", "의", "를"))


def test_latin_lowercased_and_split():
    assert tokenize("Where is ARMI|BioFabUSA?") == ["armi|biofabusa", "armi", "biofabusa"]
    assert "lift" in tokenize("LIFT 본사는 디트로이트에 있습니다")


def test_korean_sentences():
    sents = split_sentences("첫 문장입니다. 두 번째 문장은 2,500개를 말합니다. 셋째.")
    assert len(sents) == 3 and sents[1].startswith("두 번째")


def test_language_detection():
    assert detect_language("LIFT 본사는 어디인가요?").answer_lang == "ko"
    assert detect_language("Where is LIFT headquartered?").answer_lang == "en"
    assert detect_language("ok").answer_lang == "en"  # langdetect alone would say something else
    ja = detect_language("製造業の研究所はいくつありますか")
    assert ja.detected == "ja" and not ja.supported and ja.answer_lang == "en"
    es = detect_language("¿Dónde está la sede del instituto LIFT en los Estados Unidos?")
    assert es.detected == "es" and es.answer_lang == "en"
    assert detect_language("   ", default="ko").answer_lang == "ko"
