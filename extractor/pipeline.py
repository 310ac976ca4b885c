"""The extractor: document in, record out. Composes the stages, holds no rules of its own.

    document (text | HTML | dict) -> html -> language -> prefilter -> nlp.pipe -> record
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from typing import Iterable, Iterator, Optional, Union

from . import __version__
from .document import BadInput, Document, parse_published
from .errors import ExtractorError, InputError
from .html import extract_page, find_dateline, guess_kind, looks_like_html
from .language import detect
from .nlp import MAX_CHARS, get_nlp
from .prefilter import passes
from .sources import scrub_surrogates
from .record import (
    Agency, DataType, Dates, DateValue, Evidence, Organization, Record, Source, Victims,
)

DocLike = Union[str, dict, Document]


@dataclass
class Prepared:
    """A document after html/language, ready for the NLP stage."""

    doc: Document
    text: str
    language: str
    source: Source
    meta: dict


_LONG_RUN = re.compile(r"\S{%d,}" % 100)


def for_tokenizer(text: str) -> str:
    """The text spaCy sees: the same length, but a run of 100+ characters without a space (a URL
    gone wrong, 50,000 parentheses) gets a space every 100 characters. spaCy's tokenizer is
    quadratic on such runs; offsets stay the same, so evidence still points into the real text."""
    if _LONG_RUN.search(text) is None:
        return text
    return _LONG_RUN.sub(lambda m: _space_every(m.group(0), 100), text)


def _space_every(run: str, n: int) -> str:
    chars = list(run)
    for i in range(n - 1, len(chars), n):
        chars[i] = " "
    return "".join(chars)


def _evidence(text: str, start: int, end: int) -> Evidence:
    return Evidence(text=text[start:end], start=start, end=end)


def to_document(obj: DocLike) -> Document:
    if isinstance(obj, Document):
        fields = {k: scrub_surrogates(v) for k, v in vars(obj).items() if isinstance(v, (str, dict))}
        return replace(obj, **fields)
    if isinstance(obj, BadInput):
        raise InputError(obj.message)
    if isinstance(obj, dict):
        return Document.from_dict(scrub_surrogates(obj))
    if isinstance(obj, str):
        obj = scrub_surrogates(obj)
        if not obj.strip():
            raise InputError("empty document: no text to extract from")
        return Document(html=obj) if looks_like_html(obj) else Document(text=obj)
    raise InputError(f"cannot extract from a {type(obj).__name__}: give a text, an HTML string or a document dict")


def prepare(doc: Document) -> Prepared:
    """html -> text and metadata; CNW dateline; language. Raises InputError/UnsupportedLanguage."""
    title, publisher, published, precision, lang_hint = doc.title, doc.publisher, doc.published, doc.published_precision, None
    if doc.html and not (doc.text and doc.text.strip()):
        page = extract_page(doc.html, url=doc.url)
        text = page.text
        title = title or page.title
        publisher = publisher or page.publisher
        if published is None and page.published:
            published, precision = page.published, page.published_precision
        lang_hint = page.language
    else:
        text = doc.text or ""
    if not text.strip():
        raise InputError("empty document: no text to extract from")
    if "\x00" in text[:10000]:
        raise InputError("binary content: not a text or HTML document")
    dateline = find_dateline(text)
    if dateline and (published is None or precision == "month"):
        published, precision = dateline.published, "day"
    if published is None and doc.extra.get("published_hint"):
        # a feed's pubDate: the page's own date wins, this one fills in (and resolves relative dates)
        try:
            published, precision = parse_published(doc.extra["published_hint"])
        except InputError:
            pass
    language = detect(text, explicit=doc.language, hint=lang_hint or doc.extra.get("language_hint"))
    kind = doc.kind if doc.kind in ("news", "press_release", "regulator", "other") else guess_kind(doc.url, text, dateline)
    source = Source(
        id=doc.id or doc.fallback_id(),
        url=doc.url,
        title=title,
        publisher=publisher,
        language=language,
        published=published,
        published_precision=precision if published else None,
        kind=kind,
        place=dateline.place if dateline else None,
    )
    title_end = 0
    if title and text.startswith(title[:40]):
        title_end = len(title)
    else:
        first_line = text.split("\n", 1)[0]
        if len(first_line) < 200:
            title_end = len(first_line)
    meta = {
        "published": published,
        "published_precision": precision,
        "kind": kind,
        "title_end": title_end,
        "dateline_span": (dateline.start, dateline.end) if dateline else None,
        "dateline_end": dateline.end if dateline else None,
    }
    return Prepared(doc, text, language, source, meta)


def build_record(prep: Prepared, sdoc, threshold: float) -> Record:
    """Turn the components' findings on a spaCy Doc into a Record with evidence."""
    text = prep.text
    rec = Record(source=prep.source, extractor_version=__version__,
                 text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
    rec._text = text
    if sdoc is None:  # rejected by the prefilter: no breach vocabulary at all
        return rec
    org = sdoc._.organization
    if org:
        rec.organization = Organization(name=org["name"], acronym=org["acronym"], aliases=org["aliases"],
                                        evidence=_evidence(text, org["start"], org["end"]))
    v = sdoc._.victims
    if v:
        rec.victims = Victims(count=v.value, qualifier=v.qualifier, unit=v.unit, evidence=_evidence(text, v.start, v.end))
    rec.data_types = [DataType(code=h.code, evidence=_evidence(text, h.start, h.end)) for h in sdoc._.data_types or []]
    dates = {}
    for role, phrase in (sdoc._.dates or {}).items():
        dates[role] = DateValue(date=phrase.value, evidence=_evidence(text, phrase.start, phrase.end))
    rec.dates = Dates(**dates)
    agencies = []
    for h in sdoc._.agencies or []:
        role = "both" if len(h.roles) > 1 else next(iter(h.roles))
        agencies.append(Agency(code=h.code, name=h.name, role=role, evidence=_evidence(text, h.start, h.end)))
    rec.agencies = agencies
    rec.relevance = round(float(sdoc._.relevance), 4)
    rec.is_incident = bool(rec.relevance >= threshold and rec.organization is not None)
    return rec


class Extractor:
    """Reusable extractor: loads each language's pipeline once, lazily, and batches through nlp.pipe."""

    def __init__(self, *, batch_size: int = 16, prefilter: bool = True):
        from .components.relevance import weights

        self.batch_size = batch_size
        self.prefilter = prefilter
        self.threshold = float(weights()["threshold"])
        self.stats = {"documents": 0, "prefiltered": 0, "errors": 0, "incidents": 0}

    def extract(self, obj: DocLike) -> Record:
        """One document in, one record out. Raises ExtractorError (one line) on bad input."""
        prep = prepare(to_document(obj))
        return next(self._run([prep]))

    def extract_many(self, docs: Iterable[DocLike], batch_size: Optional[int] = None) -> Iterator[Record]:
        """One record per document, in order. A document that fails yields a record with `error` set."""
        size = batch_size or self.batch_size
        batch: list = []
        for obj in docs:
            batch.append(obj)
            if len(batch) >= size:
                yield from self._batch(batch)
                batch = []
        if batch:
            yield from self._batch(batch)

    def _batch(self, objs: list) -> Iterator[Record]:
        slots: list = []
        for obj in objs:
            try:
                slots.append(prepare(to_document(obj)))
            except ExtractorError as err:
                slots.append(self._error_record(obj, str(err)))
            except Exception as err:  # a document must never stop the batch
                slots.append(self._error_record(obj, f"{type(err).__name__}: {err}"))
        preps = [s for s in slots if isinstance(s, Prepared)]
        done = iter(self._run(preps))
        for s in slots:
            if isinstance(s, Prepared):
                yield next(done)
            else:
                self.stats["errors"] += 1
                yield s

    def _error_record(self, obj, message: str) -> Record:
        doc_id = obj.get("id") if isinstance(obj, dict) else getattr(obj, "id", None)
        url = obj.get("url") if isinstance(obj, dict) else getattr(obj, "url", None)
        return Record(source=Source(id=None if doc_id is None else str(doc_id), url=url if isinstance(url, str) else None),
                      error=message, extractor_version=__version__)

    def _run(self, preps: list[Prepared]) -> Iterator[Record]:
        """nlp.pipe per language, in batches; results come back in the input order."""
        results: dict[int, Record] = {}
        by_lang: dict[str, list[int]] = {}
        for i, p in enumerate(preps):
            self.stats["documents"] += 1
            if self.prefilter and not passes(p.text, p.language):
                self.stats["prefiltered"] += 1
                results[i] = build_record(p, None, self.threshold)
            else:
                by_lang.setdefault(p.language, []).append(i)
        for lang, idxs in by_lang.items():
            nlp = get_nlp(lang)
            docs = []
            for i in idxs:
                d = nlp.make_doc(for_tokenizer(preps[i].text[:MAX_CHARS]))
                d._.meta = preps[i].meta
                docs.append(d)
            for i, sdoc in zip(idxs, nlp.pipe(docs, batch_size=self.batch_size)):
                results[i] = build_record(preps[i], sdoc, self.threshold)
        for i in range(len(preps)):
            rec = results[i]
            if rec.is_incident:
                self.stats["incidents"] += 1
            yield rec


_default: Optional[Extractor] = None


def extract(obj: DocLike, **kwargs) -> Record:
    """Extract one record from a text, an HTML page or a document dict."""
    global _default
    if kwargs:
        return Extractor(**kwargs).extract(obj)
    if _default is None:
        _default = Extractor()
    return _default.extract(obj)
