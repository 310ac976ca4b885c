"""Name keys: an organization's names, in either language, folded into the keys that merging compares.

Words are data (docs/INCIDENTS.md, "Name keys"): each language folder ``resources/<lang>/names.json`` gives
its articles, connectors, legal suffixes, generic words, trailing words and a lexicon of institutional words
mapped to language-neutral concepts (``banque`` and ``bank`` are both ``bank``); ``resources/shared/names.json``
lists place names; ``resources/shared/bodies.jsonl`` is the gazetteer of bodies whose names do not translate
word by word. A third language works by adding a folder with a ``names.json``.

A name gives:

- ``n:<concepts>``: the sorted bag of its words after the lexicon (so French word order does not matter:
  *Bibliothèque publique d'Ottawa* and *Ottawa Public Library* are both ``n:library ottawa public``), long
  words cut to a stem (*laurentienne*/*laurentian*); plus a shorter form without trailing words (*Group*);
- ``a:<letters>``: an acronym the text gives, and ``d:<letters>``: the initials of the name rendered word
  by word in every language (reversed too in a language other than the name's own) (*Ottawa Public Library* -> OPL and BPO; *Veterans Affairs Canada* -> VAC, ACC);
  an ``a:`` key meets the ``d:`` key of another report (``d:`` with ``d:`` is no link);
- ``body:<id>`` for a gazetteer body.

A key made only of generic words (*Ville*, *Centre*, *CISSS*) or only of place names (*Québec*, *Toronto*)
is never made; one made of generic words and places only (*Ville de Westmount*) is *weak*.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from importlib import resources
from typing import Iterable, Optional

STEM_FROM = 9   # words this long or longer are cut to their first STEM_CHARS letters in a key
STEM_CHARS = 7
MIN_KEY_CHARS = 3

_PUNCT = re.compile(r"[^\w]+")
_ACRONYM = re.compile(r"^[A-ZÀ-Ý][A-ZÀ-Ý0-9&.\-]{1,9}$")


@dataclass(frozen=True)
class Words:
    """The name words of every language, merged (a name's language is not always the article's)."""

    articles: frozenset
    connectors: frozenset
    suffixes: tuple            # legal suffixes as token tuples, longest first
    generic: frozenset
    trailing: frozenset
    places: frozenset          # every word of a place name
    lexicon: dict              # token tuple -> concept (longest phrases first when applied)
    lang_of: dict              # token tuple -> the languages whose lexicon lists it
    longest: int               # the longest lexicon phrase, in tokens
    renderings: dict           # language -> {concept: its words in that language}
    follow_up: tuple = ()      # token tuples of the words of a legal or regulatory follow-up (a ruling, a class action)
    parents: dict = field(default_factory=dict)  # concept -> the concepts of the bodies it is part of (ministry -> government)
    child_follows: tuple = ()  # token tuples after which a text names a subsidiary (parent company of, societe mere de)
    parent_follows: tuple = ()  # token tuples after which a text names a parent company (subsidiary of, filiale de)


def _resource_root():
    return resources.files("extractor").joinpath("resources")


def languages() -> list[str]:
    """The language folders that have a names.json (discovered, never listed in code)."""
    root = _resource_root()
    return sorted(p.name for p in root.iterdir()
                  if p.is_dir() and p.name != "shared" and p.joinpath("names.json").is_file())


def _plain(s: str) -> str:
    s = unicodedata.normalize("NFKD", s or "")
    return "".join(c for c in s if not unicodedata.combining(c)).lower()


def _tokens(s: str) -> list[str]:
    return _PUNCT.sub(" ", _plain(s).replace("_", " ")).split()


@lru_cache(maxsize=1)
def words() -> Words:
    root = _resource_root()
    arts, conns, gen, trail, follow = set(), set(), set(), set(), set()
    child_cues, parent_cues = set(), set()
    suffixes: set[tuple] = set()
    lexicon: dict[tuple, str] = {}
    lang_of: dict[tuple, set] = {}
    concept_langs: list[str] = []
    renderings: dict[str, dict[str, list[str]]] = {}
    for lang in languages():
        d = json.loads(root.joinpath(lang, "names.json").read_text(encoding="utf-8"))
        arts.update(d.get("articles", []))
        conns.update(d.get("connectors", []))
        gen.update(t for w in d.get("generic", []) for t in _tokens(w))
        trail.update(d.get("trailing", []))
        follow.update(tuple(_tokens(w)) for w in d.get("follow_up", []) if _tokens(w))
        rel = d.get("parent_company", {})
        child_cues.update(tuple(_tokens(w)) for w in rel.get("child_follows", []) if _tokens(w))
        parent_cues.update(tuple(_tokens(w)) for w in rel.get("parent_follows", []) if _tokens(w))
        suffixes.update(tuple(_tokens(s)) for s in d.get("legal_suffixes", []) if _tokens(s))
        rend = renderings.setdefault(lang, {})
        if d.get("concepts_are_words"):
            concept_langs.append(lang)
        for phrase, concept in d.get("lexicon", {}).items():
            toks = tuple(_tokens(phrase))
            lexicon.setdefault(toks, concept)
            lang_of.setdefault(toks, set()).add(lang)
            rend.setdefault(concept, list(toks))
    # a concept is written as itself in a language whose lexicon does not list it (English concept ids)
    shared = json.loads(root.joinpath("shared", "names.json").read_text(encoding="utf-8"))
    places = {t for p in shared.get("places", []) for t in _tokens(p)}
    for concept in set(lexicon.values()):  # a concept is also a word of itself (English concept ids)
        toks = tuple(_tokens(concept))
        lexicon.setdefault(toks, concept)
        lang_of.setdefault(toks, set()).update(concept_langs)
    return Words(frozenset(arts), frozenset(conns), tuple(sorted(suffixes, key=len, reverse=True)),
                 frozenset(gen), frozenset(trail), frozenset(places), lexicon, lang_of,
                 max((len(k) for k in lexicon), default=1), renderings,
                 tuple(sorted(follow, key=len, reverse=True)), dict(shared.get("parents", {})),
                 tuple(sorted(child_cues, key=len, reverse=True)), tuple(sorted(parent_cues, key=len, reverse=True)))


def fold(name: Optional[str]) -> str:
    """Case, accents, punctuation, articles and legal suffixes folded away: 'La Société X inc.' -> 'societe x'."""
    w = words()
    s = _plain(name or "")
    s = re.sub(r"['\u2019]s\b", "", s)  # possessive: "PowerSchool's system" -> "powerschool system"
    s = s.replace("&", " and ").replace("_", " ")
    tokens = [t for t in _PUNCT.sub(" ", s).split() if t not in w.articles]
    return " ".join(_drop_suffixes(tokens))


def _drop_suffixes(tokens: list[str]) -> list[str]:
    """`tokens` without their trailing legal suffixes ("x inc", "y s a"), one word at least kept."""
    suffixes = words().suffixes
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        for suf in suffixes:
            if len(tokens) > len(suf) and tuple(tokens[-len(suf):]) == suf:
                tokens = tokens[: -len(suf)]
                changed = True
                break
    return tokens


def content_tokens(folded: str) -> list[str]:
    """The words of a folded name that carry meaning: connectors (de, du, of, and...) dropped."""
    conns = words().connectors
    return [t for t in folded.split() if t not in conns]


def concepts(tokens: list[str]) -> list[str]:
    """Tokens through the lexicon (longest phrase first): language-neutral concepts; other words stemmed."""
    w = words()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for n in range(min(w.longest, len(tokens) - i), 0, -1):
            c = w.lexicon.get(tuple(tokens[i:i + n]))
            if c:
                out.append(c.replace(" ", "_"))
                i += n
                break
        else:
            t = tokens[i]
            out.append(t[:STEM_CHARS] if len(t) >= STEM_FROM else t)
            i += 1
    return out


def kind(tokens: list[str]) -> str:
    """'none' (no key: only generic words, or only places), 'weak' (generic words and places), 'name'."""
    w = words()
    if not tokens:
        return "none"
    generic = [t for t in tokens if t in w.generic]
    places = [t for t in tokens if t in w.places and t not in w.generic]
    if len(generic) + len(places) < len(tokens):
        return "name"
    return "weak" if generic and places else "none"


def name_key(tokens: list[str]) -> str:
    return "n:" + " ".join(sorted(concepts(tokens)))


def reduced(tokens: list[str]) -> list[str]:
    """Trailing words (Group, Stores, Canada...) dropped; never leaves a dangling connector (tokens have none)."""
    trail = words().trailing
    out = list(tokens)
    while len(out) > 1 and out[-1] in trail:
        out.pop()
    return out


def initials(tokens: list[str]) -> set[str]:
    """Initials of the name as written and rendered word by word in every language; in a language other than
    the name's own, also in the reverse order (French puts adjectives and places after the noun)."""
    w = words()
    forms = {"".join(t[0] for t in tokens)}
    own: dict[str, int] = {}
    for lang, rend in w.renderings.items():
        i, letters = 0, []
        while i < len(tokens):
            for n in range(min(w.longest, len(tokens) - i), 0, -1):
                phrase = tuple(tokens[i:i + n])
                c = w.lexicon.get(phrase)
                if c:
                    for lg in w.lang_of.get(phrase, ()):
                        own[lg] = own.get(lg, 0) + 1
                    letters.append("".join(t[0] for t in rend.get(c, c.split())))
                    i += n
                    break
            else:
                letters.append(tokens[i][0])
                i += 1
        forms.add("".join(letters))
        own.setdefault(lang, 0)
        if lang != max(own, key=lambda lg: (own[lg], lg)) or not any(own.values()):
            forms.add("".join(reversed(letters)))
    return {f for f in forms if len(f) >= MIN_KEY_CHARS}


def looks_like_acronym(s: str) -> bool:
    s = (s or "").strip()
    return bool(_ACRONYM.match(s)) and sum(c.isalpha() for c in s) >= 2 and s.upper() == s


def keys_of_name(s: str, *, acronym: bool = False) -> tuple[list[str], set[str]]:
    """(keys, weak keys) of one name or acronym, gazetteer aside."""
    f = fold(s)
    toks = content_tokens(f)
    keys: list[str] = []
    weak: set[str] = set()
    if acronym or looks_like_acronym(s):
        letters = "".join(toks)
        if len(letters) >= MIN_KEY_CHARS and letters not in words().generic:
            keys += ["n:" + letters, "a:" + letters]
        return keys, weak
    k = kind(toks)
    if k == "none" or len(" ".join(toks)) < MIN_KEY_CHARS:
        return keys, weak
    key = name_key(toks)
    keys.append(key)
    if k == "weak":
        weak.add(key)
    r = reduced(toks)
    if r != toks and kind(r) == "name" and len(" ".join(r)) >= 4:
        keys.append(name_key(r))
    if len(toks) >= 2:
        keys += ["d:" + i for i in sorted(initials(toks))]
        if k == "weak":
            weak.update(k2 for k2 in keys if k2.startswith("d:"))
    return keys, weak


def generic_keys(s: str) -> tuple[list[str], list[str]]:
    """(``g:`` keys, ``h:`` keys) of one name: a name of generic words only (*the CISSS*, *Ministry of Education*)
    gives ``g:<its concepts>`` and one per body it is part of (``g:government``); a name with other words gives
    ``h:`` keys for the sets of its generic concepts (*CISSS de la Montérégie-Centre* -> ``h:cisss``), and an
    acronym ``h:<generic word>`` for a generic word it starts with (*CISSSMC* -> ``h:cisss``). A ``g:`` key meets
    the ``g:`` or ``h:`` key of another report; two ``h:`` keys never link."""
    w = words()
    f = fold(s)
    toks = content_tokens(f)
    if not toks:
        return [], []
    if looks_like_acronym(s):
        letters = "".join(toks)
        if letters in w.generic:
            return ["g:" + letters], []
        return [], sorted({"h:" + g for g in w.generic if len(g) >= 4 and letters.startswith(g) and letters != g})
    generic = sorted({c for t in toks if t in w.generic for c in concepts([t])})
    if not generic:
        return [], []
    if all(t in w.generic for t in toks):
        own = " ".join(sorted(concepts(toks)))
        return ["g:" + own] + sorted({"g:" + p for c in generic for p in w.parents.get(c, ())}), []
    subsets = {" ".join(c) for n in range(1, min(3, len(generic)) + 1) for c in combinations(generic, n)}
    return [], sorted("h:" + x for x in subsets)


# -- the gazetteer ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Body:
    id: str
    names: tuple[str, ...]
    acronyms: tuple[str, ...]
    distinct_from: tuple[str, ...]


@lru_cache(maxsize=1)
def gazetteer() -> tuple[dict[str, Body], dict[str, set[str]], dict[str, set[str]]]:
    """(bodies by id, folded name -> body ids, folded acronym -> body ids) from bodies.jsonl."""
    bodies: dict[str, Body] = {}
    by_name: dict[str, set[str]] = {}
    by_acr: dict[str, set[str]] = {}
    text = _resource_root().joinpath("shared", "bodies.jsonl").read_text(encoding="utf-8")
    langs = languages()
    for line in text.splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        names = [n for lang in langs for n in d.get(lang, [])]
        b = Body(d["id"], tuple(names), tuple(d.get("acronyms", [])), tuple(d.get("distinct_from", [])))
        bodies[b.id] = b
        for n in b.names:
            by_name.setdefault(fold(n), set()).add(b.id)
        for a in b.acronyms:
            by_acr.setdefault(fold(a), set()).add(b.id)
    return bodies, by_name, by_acr


@dataclass
class OrgKeys:
    primary: list[str] = field(default_factory=list)   # from the name and the acronym
    aliases: list[str] = field(default_factory=list)   # from the aliases only
    weak: set[str] = field(default_factory=set)        # keys of generic words and places only
    generic: list[str] = field(default_factory=list)   # g: and h: keys (generic_keys), of every name and alias
    parents: set[str] = field(default_factory=set)     # keys of a name the text calls a parent company (company_relations)

    def all(self) -> set[str]:
        return set(self.primary) | set(self.aliases) | set(self.generic)


def org_keys(org: Optional[dict], text: Optional[str] = None, toks: Optional[list[str]] = None) -> OrgKeys:
    """The keys of a record's ``organization`` (name, acronym, aliases), gazetteer first; with the report's text,
    the parent companies and subsidiaries it names among them (`company_relations`): a parent's keys are marked
    (``parents``: a parent's name is no proof of one breach), and a subsidiary the text names as the child of
    another of the record's names becomes a primary key (the record is about the subsidiary) unless the record's
    own name is that parent. `toks`: the text's ``_tokens``, when the caller has them."""
    out = OrgKeys()
    if not org or not org.get("name"):
        return out
    bodies, by_name, by_acr = gazetteer()
    aliases = [a for a in (org.get("aliases") or []) if isinstance(a, str)]
    entries = [(org.get("name") or "", True, False), (org.get("acronym") or "", True, True)]
    entries += [(a, False, False) for a in aliases]
    resolved = []
    for s, is_primary, as_acr in entries:
        if not s:
            continue
        f = fold(s)
        ids = set(by_name.get(f) or by_name.get(" ".join(reduced(f.split()))) or by_acr.get(f) or ())
        resolved.append((s, f, ids, is_primary, as_acr))
    # Which body is the record about? The longest matching name wins among bodies that must stay apart
    # ("Secrétariat du Conseil du Trésor du Canada" beats "Secrétariat du Conseil du trésor").
    unique = [(f, next(iter(ids))) for _, f, ids, _, _ in resolved if len(ids) == 1]
    excluded: set[str] = set()
    for f, bid in sorted(unique, key=lambda x: (-len(x[0]), x[1])):
        if bid not in excluded:
            excluded.update(bodies[bid].distinct_from)
    chosen = {bid for _, bid in unique if bid not in excluded}
    excluded_names = {fold(n) for b in excluded for n in bodies[b].names}
    strong: set[str] = set()
    heads: list[str] = []
    named: list[str] = []
    per: list[list[str]] = []   # the keys of each resolved name, in order
    for s, f, ids, is_primary, as_acr in resolved:
        target = out.primary if is_primary else out.aliases
        ids = ids - excluded
        if len(ids) == 1:
            keys = ["body:" + next(iter(ids))]
        elif len(ids) > 1:  # an ambiguous acronym: the body the record names, else the bare acronym
            mine = ids & chosen
            keys = ["body:" + b for b in sorted(mine)] if mine else keys_of_name(s, acronym=True)[0][:1]
        elif f in excluded_names:
            keys = []
        else:
            keys, weak = keys_of_name(s, acronym=as_acr)
            out.weak |= weak
            strong.update(k for k in keys if k not in weak)
        per.append(list(keys))
        for k in keys:
            if k not in target:
                target.append(k)
        if not ids:
            g, h = generic_keys(s)
            heads += h
            if is_primary:
                named += g
    if text and len(resolved) > 0:
        children, parents = company_relations([r[0] for r in resolved], text, toks)
        own_is_parent = any(resolved[i][3] and not resolved[i][4] for i in parents)
        promoted = [] if own_is_parent else [k for i in sorted(children) for k in per[i]]
        for k in promoted:
            if k not in out.primary:
                out.primary.append(k)
        out.parents = {k for i in parents for k in per[i]} - set(promoted)
    # a g: key only when the organization is known by a generic name alone (an alias "Centre" is no such name)
    out.generic = sorted(set(heads) | (set(named) if not out.primary else set()))
    out.aliases = [k for k in out.aliases if k not in out.primary]
    out.weak -= strong
    return out


# -- parent companies named in the text -------------------------------------------------------------------
RELATION_GAP = 3   # tokens allowed between a cue and a name before it, or after it (an article, a copula, "groupe")


def _core(name: str) -> tuple:
    """A name's words as a text writes them: leading articles and trailing legal suffixes dropped."""
    articles = words().articles
    toks = _tokens(name)
    while toks and toks[0] in articles:
        toks.pop(0)
    return tuple(_drop_suffixes(toks))


def company_relations(names: list[str], text: str, toks: Optional[list[str]] = None) -> tuple[set[int], set[int]]:
    """(children, parents): the indices of `names` that the text calls a subsidiary and a parent company.

    A name after a ``child_follows`` cue (*parent company of X*, *la société mère de X*) is a child, and the name
    just before the cue (*Empire Co. - parent company of X*, *Telus, la société mère de X*) or right after the
    child (*the parent company of X, Empire Company Ltd.*) its parent; a name after a ``parent_follows`` cue
    (*a subsidiary of Y*, *filiale du groupe Y*, *owned by Y*) is a parent, and the name just before the cue its
    child. The cues are data (``parent_company`` in resources/<lang>/names.json). A name both child and parent
    counts as neither. `toks`: the text's ``_tokens``, when the caller has them."""
    w = words()
    if not text or not names or not (w.child_follows or w.parent_follows):
        return set(), set()
    toks = _tokens(text) if toks is None else toks
    cores = [c if len(" ".join(c)) >= MIN_KEY_CHARS else () for c in (_core(n) for n in names)]
    first: dict[str, list[int]] = {}
    for i, c in enumerate(cores):
        if c:
            first.setdefault(c[0], []).append(i)

    def after(pos: int, gap: int) -> set[tuple[int, int]]:
        """The shortest names starting at the first position within `gap` tokens from pos (a name glued to the
        next one, *Sobeys, Empire Company Ltd*, is not the one named there): {(index, end)}."""
        for p in range(pos, min(pos + gap + 1, len(toks))):
            found = [(len(cores[i]), i) for i in first.get(toks[p], ()) if tuple(toks[p:p + len(cores[i])]) == cores[i]]
            if found:
                n = min(found)[0]
                return {(i, p + n) for k, i in found if k == n}
        return set()

    def before(pos: int) -> set[int]:
        """The names that end nearest before pos, within RELATION_GAP tokens."""
        for end in range(pos, max(pos - RELATION_GAP, 0) - 1, -1):
            found = {i for i, c in enumerate(cores) if c and end >= len(c) and tuple(toks[end - len(c):end]) == c}
            if found:
                return found
        return set()

    children: set[int] = set()
    parents: set[int] = set()
    for cues, child_side in ((w.child_follows, True), (w.parent_follows, False)):
        starts: dict[str, list[tuple]] = {}
        for cue in cues:
            starts.setdefault(cue[0], []).append(cue)
        for p, t in enumerate(toks):
            for cue in starts.get(t, ()):
                if tuple(toks[p:p + len(cue)]) != cue:
                    continue
                named = after(p + len(cue), RELATION_GAP - 1)
                if child_side:
                    children |= {i for i, _ in named}
                    parents |= before(p)
                    parents |= {j for _, e in named for j, _ in after(e, 0)} - {i for i, _ in named}
                else:
                    parents |= {i for i, _ in named}
                    children |= before(p)
    both = children & parents
    return children - both, parents - both


def lookup_keys(keys: Iterable[str]) -> set[str]:
    """The index keys that can link to these keys: themselves, ``a:``/``d:`` acronyms across, a ``g:`` key's
    ``h:`` keys; an ``h:`` key looks up only ``g:`` keys (two specific names sharing a generic word never meet)."""
    out = set()
    for k in keys:
        if k.startswith("h:"):
            out.add("g:" + k[2:])
            continue
        out.add(k)
        if k.startswith("a:"):
            out.add("d:" + k[2:])
        elif k.startswith("d:"):
            out.add("a:" + k[2:])
        elif k.startswith("g:"):
            out.add("h:" + k[2:])
    return out
