"""Language of a document: an explicit language wins; otherwise langdetect, seeded."""

from __future__ import annotations

from typing import Optional

from .errors import UnsupportedLanguage
from .resources import LANGUAGES

SAMPLE_CHARS = 2000


def detect(text: str, explicit: Optional[str] = None, hint: Optional[str] = None) -> str:
    """A language of ``resources/`` (fr, en). `explicit` (the document says so) wins; `hint` (a feed's language) breaks ties.

    Raises UnsupportedLanguage for any other language.
    """
    if explicit:
        lang = explicit.strip().lower().replace("_", "-").split("-")[0]
        if lang not in LANGUAGES:
            raise UnsupportedLanguage(lang)
        return lang
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    sample = text[:SAMPLE_CHARS]
    try:
        ranked = detect_langs(sample)
    except LangDetectException:
        if hint in LANGUAGES:
            return hint
        raise UnsupportedLanguage("unknown (no letters to detect a language from)") from None
    probs = {r.lang: r.prob for r in ranked}
    best = ranked[0].lang
    if best in LANGUAGES and probs[best] >= 0.5:
        return best
    if hint in LANGUAGES and probs.get(hint, 0) > 0.2:
        return hint
    fr_en = [r for r in ranked if r.lang in LANGUAGES]
    if fr_en and fr_en[0].prob >= 0.3:
        return fr_en[0].lang
    raise UnsupportedLanguage(best)
