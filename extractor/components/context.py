"""`incident_context`: what every later component shares — sentence bounds and document metadata.

The pipeline sets ``doc._.meta`` (publication date, title length, source kind) before
running the components; this one turns spaCy's sentences into character bounds.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

for _name, _default in (("meta", None), ("sent_bounds", None), ("text", None)):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)


@Language.component("incident_context")
def incident_context(doc: Doc) -> Doc:
    if doc._.meta is None:
        doc._.meta = {}
    bounds = []
    if doc.has_annotation("SENT_START"):
        for sent in doc.sents:
            bounds.append((sent.start_char, sent.end_char))
    else:
        bounds.append((0, len(doc.text)))
    # spaCy may split inside a line; never across a blank line (headlines, datelines)
    out = []
    text = doc.text  # Doc.text rebuilds the whole string on every access: once here, kept in doc._.text
    for s, e in bounds:
        chunk = text[s:e]
        cut = s
        for part in chunk.split("\n"):
            if part.strip():
                ps = text.index(part, cut)
                out.append((ps, ps + len(part)))
            cut += len(part) + 1
    doc._.sent_bounds = out or [(0, len(text))]
    doc._.text = text  # for the later components: Doc.text is rebuilt from every token at each access
    return doc
