"""Language of a document: an explicit language wins; otherwise langdetect, seeded.

langdetect's own detector spends most of its time in Python loops over characters (appending the
text one character at a time, the n-gram buffer, a 55-language update per sampled n-gram). It runs
on every document the prefilter sees, so ``_detector`` builds langdetect's ``Detector`` with those
steps done in bulk: regex substitutions for the text clean-up, a memo of langdetect's own
``NGram.normalize`` per character, numpy for the per-n-gram update. The random sampling, the
summation order and every floating-point operation are langdetect's, so the probabilities are
bit for bit the same (tests/test_prefilter.py compares them with ``langdetect.detect_langs``).
"""

from __future__ import annotations

import re
from functools import lru_cache
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
    from langdetect.lang_detect_exception import LangDetectException

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


def detect_langs(text: str) -> list:
    """langdetect.detect_langs(text) with the seed 0, faster (the same Language list)."""
    detector = _detector_class()(_factory())
    detector.append(text)
    return detector.get_probabilities()


@lru_cache(maxsize=1)
def _factory():
    from langdetect import DetectorFactory, detector_factory

    DetectorFactory.seed = 0
    detector_factory.init_factory()
    return detector_factory._factory


_SPACES = re.compile(" {2,}")
_LATIN = re.compile("[A-z]")  # langdetect's 'A' <= ch <= 'z'
_NON_LATIN = re.compile("[\u0300-\u1dff\u1f00-\U0010ffff]")  # >= U+0300, outside Latin Extended Additional


def _word_ngrams(s: str, wmap) -> tuple:
    """The n-grams langdetect's buffer yields over `s` (" " + a word, maybe a final space) that its profiles know."""
    out = []
    for k in range(1, len(s)):
        c = s[k]
        if c.isupper() and s[k - 1].isupper():
            continue  # inside a word in capitals: langdetect skips it
        if c != " " and c in wmap:
            out.append(c)
        if s[k - 1:k + 1] in wmap:
            out.append(s[k - 1:k + 1])
        if k >= 2 and s[k - 2:k + 1] in wmap:
            out.append(s[k - 2:k + 1])
    return tuple(out)


@lru_cache(maxsize=1)
def _detector_class():
    import numpy as np
    from langdetect.detector import Detector
    from langdetect.utils.ngram import NGram

    normalized: dict = {}  # character -> NGram.normalize(character)
    table: dict = {}  # the characters that normalize to another one, for str.translate
    words: dict = {}  # (word, followed by a space) -> its n-grams
    vectors: dict = {}

    class FastDetector(Detector):
        def append(self, text):
            text = self.URL_RE.sub(" ", text)
            text = self.MAIL_RE.sub(" ", text)
            text = NGram.normalize_vi(text)
            self.text += _SPACES.sub(" ", text[:self.max_text_length])  # a space after a space is dropped

        def cleaning_text(self):
            latin = len(_LATIN.findall(self.text))
            if latin * 2 < len(_NON_LATIN.findall(self.text)):
                self.text = _LATIN.sub("", self.text)

        def _extract_ngrams(self):
            # langdetect's n-gram buffer restarts after each space: a word's n-grams (the last one to three
            # characters of " " + word at each position, and of the space that ends it) depend on the word
            # alone, so they are computed once per distinct word, in langdetect's order
            new = set(self.text).difference(normalized)
            for ch in new:
                normalized[ch] = NGram.normalize(ch)
                if normalized[ch] != ch:
                    table[ord(ch)] = normalized[ch]
            result: list = []
            tokens = self.text.translate(table).split(" ")
            last = len(tokens) - 1
            for i, word in enumerate(tokens):
                if word:
                    key = (word, i < last)
                    grams = words.get(key)
                    if grams is None:
                        if len(words) > 200_000:
                            words.clear()
                        grams = words[key] = _word_ngrams(" " + word + (" " if i < last else ""),
                                                          self.word_lang_prob_map)
                    result += grams
            return result

        def _init_probability(self):
            return np.array(super()._init_probability(), dtype=np.float64)

        def _update_lang_prob(self, prob, word, alpha):
            vec = vectors.get(word)
            if vec is None:
                if word is None or word not in self.word_lang_prob_map:
                    return False
                vec = vectors[word] = np.array(self.word_lang_prob_map[word], dtype=np.float64)
            prob *= (alpha / self.BASE_FREQ) + vec
            return True

        def _normalize_prob(self, prob):
            prob /= sum(prob.tolist())  # Python's own summation, in langdetect's order
            return float(prob.max())

        def get_probabilities(self):
            ranked = super().get_probabilities()
            for r in ranked:
                r.prob = float(r.prob)
            return ranked

    return FastDetector
