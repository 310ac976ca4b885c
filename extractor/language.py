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
from pathlib import Path
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


class _Profiles:
    """What langdetect's ``Detector`` reads from its factory: the language list, the seed, and the n-grams'
    probabilities, kept sparse: ``word_lang_prob_map`` maps an n-gram to its row; a row's non-zero
    probabilities (langdetect's own floats) are ``probs[indptr[row]:indptr[row + 1]]``, for the languages
    ``langs[...]`` of the same slice. ``row_vector`` gives langdetect's full row back."""

    seed = 0

    def __init__(self, langlist: list, words: tuple, langs: bytes, probs: bytes, indptr: bytes):
        from array import array

        import numpy as np

        self.langlist = langlist
        self.word_lang_prob_map = dict(zip(words, range(len(words))))
        self.langs = np.frombuffer(langs, dtype=np.uint16)
        self.probs = np.frombuffer(probs, dtype=np.float64)
        self.indptr = array("I")
        self.indptr.frombytes(indptr)
        if not (len(self.indptr) == len(words) + 1 and len(self.langs) == len(self.probs) == self.indptr[-1]):
            raise ValueError("inconsistent profile cache")

    def row_vector(self, word):
        import numpy as np

        row = self.word_lang_prob_map[word]
        start, end = self.indptr[row], self.indptr[row + 1]
        vec = np.zeros(len(self.langlist), dtype=np.float64)
        vec[self.langs[start:end]] = self.probs[start:end]
        return vec


PROFILE_CACHE_FORMAT = 2


def _profile_cache_path(profiles_dir: str, regex_dir: Optional[Path] = None) -> Optional[Path]:
    """The cache file of langdetect's profiles as built here, keyed by everything they are built from: the
    profile files in langdetect's listing order (names, sizes, times) and Python's version. Beside the user's
    regex cache (``nlp.cache_dir()``), or beside `regex_dir` (the installation's, read when the user's has none)."""
    import hashlib
    import os
    import sys

    from .nlp import cache_dir

    regex_dir = regex_dir or cache_dir()
    if regex_dir is None:
        return None
    try:
        listing = [(n, st.st_size, st.st_mtime_ns) for n in os.listdir(profiles_dir)
                   for st in [os.stat(os.path.join(profiles_dir, n))]]
    except OSError:
        return None
    raw = repr((PROFILE_CACHE_FORMAT, sys.version, sys.byteorder, profiles_dir, listing))
    return regex_dir.parent / "langdetect" / (hashlib.sha256(raw.encode()).hexdigest()[:24] + ".marshal")


def _build_profiles(profiles_dir: str) -> tuple:
    """langdetect's own profile loading (about 0.5 s: 55 JSON files, 88,000 n-grams), then made sparse."""
    from array import array

    from langdetect import DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(profiles_dir)
    words, langs, probs, indptr = [], array("H"), array("d"), array("I", [0])
    for word, row in factory.word_lang_prob_map.items():
        words.append(word)
        for i, p in enumerate(row):
            if p != 0.0:
                langs.append(i)
                probs.append(p)
        indptr.append(len(probs))
    return list(factory.langlist), tuple(words), langs.tobytes(), probs.tobytes(), indptr.tobytes()


@lru_cache(maxsize=1)
def _factory() -> _Profiles:
    """langdetect's profiles, read from our cache (one file, a few hundredths of a second) when it holds them,
    otherwise built by langdetect and cached. The probabilities are langdetect's own floats."""
    import marshal
    import os

    from langdetect import DetectorFactory, detector_factory

    DetectorFactory.seed = 0
    from .nlp import install_cache_dir

    path = _profile_cache_path(detector_factory.PROFILES_DIRECTORY)
    if path is not None:
        installed = install_cache_dir()
        for candidate in (path, installed and _profile_cache_path(detector_factory.PROFILES_DIRECTORY, installed)):
            if candidate is None:
                continue
            try:
                return _Profiles(*marshal.loads(candidate.read_bytes()))
            except (OSError, ValueError, EOFError, TypeError):
                pass  # absent, corrupt or unreadable: the installation's, else built below
    built = _build_profiles(detector_factory.PROFILES_DIRECTORY)
    if path is not None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(marshal.dumps(built))
            os.replace(tmp, path)
        except (OSError, ValueError):
            try:
                tmp.unlink()
            except OSError:
                pass
    return _Profiles(*built)


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
        def __init__(self, factory):
            super().__init__(factory)
            self._profiles = factory

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
                vec = vectors[word] = self._profiles.row_vector(word)
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
