"""Helpers shared by the components (sentence and clause windows, negation)."""

from __future__ import annotations

import re


def doc_text(doc) -> str:
    """The document's text, built once by `incident_context` (``Doc.text`` joins every token anew)."""
    text = doc._.text if doc.has_extension("text") else None
    return text if text is not None else doc.text


def sentence_bounds(sents: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for s, e in sents:
        if s <= pos < e:
            return s, e
    return 0, 10**9


def clause_bounds(text: str, start: int, end: int, lo: int, hi: int, breaks: re.Pattern) -> tuple[int, int]:
    """The clause of text[lo:hi] that contains [start, end): cut at clause breaks."""
    left, right = lo, min(hi, len(text))
    for m in breaks.finditer(text, lo, right):
        if m.end() <= start:
            left = m.end()
        elif m.start() >= end:
            right = m.start()
            break
    return left, right


def split_patterns(patterns: list[tuple[str, str]]) -> tuple[re.Pattern | None, re.Pattern | None, list[str]]:
    """Compile (pattern, label) pairs into two regexes: acronym-like patterns match case-sensitively."""
    sens, insens, labels = [], [], []
    for pat, label in sorted(patterns, key=lambda p: len(p[0]), reverse=True):
        i = len(labels)
        labels.append(label)
        group = f"(?P<g{i}>{pat})"
        letters = re.sub(r"\\.|\[[^\]]*\]|\(\?[^)]*\)", "", pat)
        if re.search(r"[A-Z]{2}", letters) and not re.search(r"[a-z]{2}", letters.replace("s?", "")):
            sens.append(group)
        else:
            insens.append(group)
    # (?=\w): every name and term starts with a letter or digit, so most positions fail at once
    wrap = lambda parts, flags: re.compile(rf"(?<![\w])(?=\w)(?:{'|'.join(parts)})(?![\w])", flags) if parts else None
    return wrap(sens, 0), wrap(insens, re.IGNORECASE), labels


def iter_labelled(text: str, regexes, labels):
    """Yield (start, end, label) for every match of the compiled label regexes, leftmost-longest, no overlaps."""
    hits = []
    for rx in regexes:
        if rx is None:
            continue
        for m in rx.finditer(text):
            gi = next(int(k[1:]) for k, v in m.groupdict().items() if v is not None)
            hits.append((m.start(), m.end(), labels[gi]))
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    last = -1
    for s, e, label in hits:
        if s >= last:
            yield s, e, label
            last = e


def register(name: str, build):
    """Register the spaCy component factory `name`: ``build(lang)``, from the pipeline's language alone
    (no config), which is how every ``incident_*`` component is made. Returns the factory."""
    from spacy.language import Language

    def make(nlp, name: str):
        return build(nlp.lang)

    return Language.factory(name, default_config={}, func=make)
