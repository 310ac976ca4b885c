"""Matching policy: whether two reports can be, and how strongly they are, one incident (pure functions, no SQLite).

A `Rep` is what matching knows of one report: its organization keys (extractor/names.py), dates, count,
data types, agencies, lead embedding and manual decision. Then:

- `conflict(a, b)`: why two reports can never be one incident (dates, counts that fall, manual decisions);
- `link_score(a, b)`: how strongly two compatible reports are one incident: the strength of the keys they
  share, plus the evidence of their texts, counts, data types, agencies and dates (negative when they
  disagree); without a shared key only strong evidence links;

extractor/clustering.py groups reports into incidents from these pairwise decisions (`cluster`).

Every threshold and weight is read from the ``[merge]`` section of extractor/settings.toml.
The result depends only on the set of reports, never on their order.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Optional

import numpy as np

from . import settings
from .names import OrgKeys, _tokens, org_keys, words

UNSPECIFIED = "unspecified_personal_information"
_YEAR = re.compile(r"(?<!\d)(19[89]\d|20[0-4]\d)(?!\d)")


def S(key: str):
    return settings.get("merge", key)


def day(v) -> Optional[date]:
    if not v:
        return None
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


@dataclass
class Rep:
    rid: int
    source_id: str
    rec: dict
    published: Optional[date]
    incident: Optional[date]
    discovered: Optional[date]
    count: Optional[int]
    kind: str
    keys: OrgKeys
    codes: frozenset = frozenset()
    agencies: frozenset = frozenset()
    years: frozenset = frozenset()       # years the text mentions (the era of an undated report)
    follow_up: bool = False              # a regulator's report, or a lead with the words of a ruling or a lawsuit
    doc: dict = field(default_factory=dict)
    words: str = " "                     # the text's words, folded, space-delimited (for `mentions`)
    names: tuple = ()                    # the record's own name (and acronym) as the text writes it, folded
    vec: Optional[np.ndarray] = None
    manual_group: Optional[str] = None   # the incident id of a manual decision, else None
    attached_at: Optional[str] = None
    # values derived once from the fields above but vec, manual_group and attached_at (extractor/clustering.py's
    # token): shared with every copy `dataclasses.replace` makes, which never changes those fields
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def primary(self) -> list[str]:
        return self.keys.primary

    @property
    def aliases(self) -> list[str]:
        return self.keys.aliases

    @property
    def all_keys(self) -> set[str]:
        return self.keys.all()

    @property
    def sort_key(self) -> tuple:
        """Publication order: dated reports by day, then undated ones (seen at an unknown time), by source id."""
        return (0, self.published.isoformat(), self.source_id) if self.published else (1, "", self.source_id)


def rep_from_record(rid: int, source_id: Optional[str], rec: dict, doc: Optional[dict] = None) -> Rep:
    """A Rep from a record dict (and its stored document: title, text, url, published, language)."""
    doc = doc or {}
    src = rec.get("source") or {}
    dates = rec.get("dates") or {}

    def dv(name):
        v = dates.get(name)
        return day(v.get("date")) if isinstance(v, dict) else None

    published = day(src.get("published")) or day(doc.get("published")) or dv("disclosed")
    org = rec.get("organization") or {}
    text = (doc.get("text") or "")[:S("era_text_chars")]
    toks = _tokens(text)
    count = (rec.get("victims") or {}).get("count")
    kind = src.get("kind") or doc.get("kind") or "other"
    return Rep(
        rid=rid, source_id=source_id or src.get("id") or str(rid), rec=rec, published=published,
        incident=dv("incident"), discovered=dv("discovered"), count=count if isinstance(count, int) and count > 0 else None,
        kind=kind, keys=org_keys(rec.get("organization"), text, toks),
        words=" " + " ".join(toks) + " ", names=_own_names(org),
        follow_up=kind == "regulator" or is_follow_up(doc.get("title") or src.get("title"), doc.get("text")),
        codes=frozenset(d["code"] for d in rec.get("data_types") or [] if d.get("code") and d["code"] != UNSPECIFIED),
        agencies=frozenset(a["code"] for a in rec.get("agencies") or [] if a.get("code")), doc=doc,
        years=frozenset(int(y) for y in _YEAR.findall((doc.get("text") or "")[:S("era_text_chars")])),
    )


def _own_names(org: dict) -> tuple:
    """The record's name and acronym as a text writes them (folded words), when distinctive enough to be looked
    for in another report's text: a name key of its own (not generic words or places only), and at least
    mention_min_chars letters."""
    from .names import _core, content_tokens, kind

    out = []
    for s in (org.get("name"), org.get("acronym")):
        if not isinstance(s, str) or not s.strip():
            continue
        core = _core(s)
        if len("".join(core)) >= S("mention_min_chars") and kind(content_tokens(" ".join(core))) != "none":
            out.append(" ".join(core))
    return tuple(sorted(set(out)))


def mentions(a: Rep, b: Rep) -> bool:
    """The text of b names a's organization (by a's own name or acronym)."""
    return any(f" {n} " in b.words for n in a.names)


def is_follow_up(title: Optional[str], text: Optional[str]) -> bool:
    """The lead (title and first characters) names a ruling, a lawsuit, a settlement (``follow_up`` in names.json)."""
    from .embed import lead

    return _has_cue(lead(title, text or "", S("follow_up_chars")))


@lru_cache(maxsize=4096)  # a report is read again at every attach of its component
def _has_cue(text: str) -> bool:
    toks, cues = _tokens(text), set(words().follow_up)
    return any(tuple(toks[i:i + n]) in cues for i in range(len(toks)) for n in {len(c) for c in cues})


def rep_from_json(rid: int, source_id: str, record_json: str, doc: dict) -> Rep:
    return rep_from_record(rid, source_id, json.loads(record_json), doc)


def incident_id_for(source_id: str) -> str:
    return "inc-" + hashlib.sha256(source_id.encode("utf-8")).hexdigest()[:16]


# -- pairwise decisions -----------------------------------------------------------------------------------
def _days(a: date, b: date) -> int:
    return abs((a - b).days)


def _ratio(a: int, b: int) -> float:
    return max(a, b) / max(1, min(a, b))


def conflict(a: Rep, b: Rep) -> Optional[str]:
    """Why two reports cannot be one incident (symmetric), or None."""
    if a.manual_group and b.manual_group and a.manual_group != b.manual_group:
        return "manual"
    if (a.published and b.published and _days(a.published, b.published) > S("window_days")
            and not long_tail(a, b)):
        return "window"
    if distinct_bodies(a, b):
        return "distinct_bodies"
    tol = S("incident_date_tolerance_days")
    if a.incident and b.incident and _days(a.incident, b.incident) > tol:
        return "incident_dates"
    if a.discovered and b.discovered and _days(a.discovered, b.discovered) > tol:
        return "discovery_dates"
    ea, eb = a.incident or a.discovered, b.incident or b.discovered
    if ea and eb and _days(ea, eb) > S("event_date_tolerance_days"):
        return "event_dates"
    if a.published and b.published and a.published != b.published:
        early, late = (a, b) if a.published < b.published else (b, a)
        event = late.incident or late.discovered
        if event and event > early.published + timedelta(days=S("newer_breach_slack_days")):
            return "newer_breach"
        if (early.count and late.count is not None and (late.published - early.published).days > S("count_drop_days")
                and late.count < S("count_drop") * early.count):
            return "count_drop"
    for x, y in ((a, b), (b, a)):  # an undated report's event after the other's publication: another breach
        ev = x.incident or x.discovered
        if x.published is None and y.published and ev and ev > y.published + timedelta(days=S("newer_breach_slack_days")):
            return "newer_breach"
    return None


def _early_late(a: Rep, b: Rep) -> tuple[Rep, Rep]:
    return (a, b) if (a.published, a.source_id) <= (b.published, b.source_id) else (b, a)


def follows(a: Rep, b: Rep) -> bool:
    """The later of two dated reports is a follow-up (a ruling, a lawsuit, a regulator's report) that states no
    breach date of its own after the earlier one's publication: long-tail coverage, not a newer breach."""
    if not (a.published and b.published) or a.published == b.published:
        return False
    early, late = _early_late(a, b)
    event = late.incident or late.discovered
    return late.follow_up and not (event and event > early.published)


def long_tail(a: Rep, b: Rep) -> bool:
    """A follow-up published beyond the window (a ruling years later) may join the breach it is about: a
    distinctive shared name, counts that do not disagree, and no past year in its text that the other contradicts."""
    if not follows(a, b) or key_kind(a, b) != "primary":
        return False
    early, late = _early_late(a, b)
    if early.count and late.count and _ratio(early.count, late.count) > S("count_close_ratio"):
        return False
    past = {y for y in late.years if y < late.published.year}
    era = {(early.incident or early.discovered or early.published).year, early.published.year}
    return not past or any(abs(y - e) <= 1 for y in past for e in era)


def distinct_bodies(a: Rep, b: Rep) -> bool:
    """The two reports name two gazetteer bodies that must stay apart (Québec's SCT and the federal TBS)."""
    from .names import gazetteer

    bodies = gazetteer()[0]
    ba = {k[5:] for k in a.primary if k.startswith("body:")}
    bb = {k[5:] for k in b.primary if k.startswith("body:")}
    return any(y in bodies[x].distinct_from for x in ba for y in bb if x in bodies)


def key_kind(a: Rep, b: Rep) -> Optional[str]:
    """Which kind of organization key two reports share: primary, weak, name_alias, alias, alias_weak, acronym,
    generic, parent (only a name that one of the texts calls a parent company), mention (no shared key, but each
    text names the other report's organization)."""
    ka, kb = a.all_keys, b.all_keys
    shared = {k for k in ka & kb if k[:2] not in ("d:", "g:", "h:")}
    if shared and shared <= (a.keys.parents | b.keys.parents):
        return "parent"  # only the name of a parent company one of the texts names as such (a brand's owner)
    shared -= a.keys.parents | b.keys.parents
    if not shared:
        cross = any(k.startswith("a:") and "d:" + k[2:] in kb for k in ka)
        cross = cross or any(k.startswith("a:") and "d:" + k[2:] in ka for k in kb)
        if cross:
            return "acronym"
        generic = any(k.startswith("g:") and (k in kb or "h:" + k[2:] in kb) for k in ka)
        generic = generic or any(k.startswith("g:") and "h:" + k[2:] in ka for k in kb)
        if generic:
            return "generic"
        # two organizations of one incident, each report naming the other's (a health authority and its e-health
        # agency, a company and its supplier): no shared key, but each text names the other's organization
        return "mention" if mentions(a, b) and mentions(b, a) else None
    primary = shared & set(a.primary) & set(b.primary)
    weak = a.keys.weak | b.keys.weak
    if primary:
        return "primary" if primary - weak else "weak"
    named = shared & (set(a.primary) | set(b.primary))  # one report's name is the other's alias
    if named - weak:
        return "name_alias"
    return "alias" if shared - weak else "alias_weak"


def key_strength(a: Rep, b: Rep) -> float:
    """The strength of the organization keys two reports share (0: none), from the [merge] settings."""
    kind = key_kind(a, b)
    return S("key_" + kind) if kind else 0.0


def evidence(a: Rep, b: Rep) -> float:
    """What the texts, counts, data types, agencies and dates say, beyond the names (0: nothing either way)."""
    score = 0.0
    if a.vec is not None and b.vec is not None:
        score += S("text_weight") * (float(a.vec @ b.vec) - S("text_center"))
    if a.count and b.count:
        r = _ratio(a.count, b.count)
        if a.count == b.count:
            score += S("count_equal")
        elif r <= S("count_close_ratio"):
            score += S("count_close")
        elif r > S("far_count_ratio"):
            score -= S("count_far_penalty")
    if a.codes and b.codes:
        jac = len(a.codes & b.codes) / len(a.codes | b.codes)
        if a.codes <= b.codes or b.codes <= a.codes:  # one report names fewer of the same data (a short report,
            jac = max(jac, S("data_types_center"))    # a regulator's summary): no disagreement, nothing either way
        score += S("data_types_weight") * (jac - S("data_types_center"))
    score += min(len(a.agencies & b.agencies), 2) * S("agency_shared")
    ea, eb = a.incident or a.discovered, b.incident or b.discovered
    if ea and eb and _days(ea, eb) <= S("same_event_days"):
        score += S("event_same")
    score -= era_penalty(a, b)
    if a.published and b.published:
        gap = _days(a.published, b.published)
        if not follows(a, b):  # a ruling or a regulator's report comes months or years after the breach
            score -= S("year_penalty") * min(gap / 365.0, 1.5)
        if gap <= S("same_event_days"):
            score += S("published_close")
    return score


def era_penalty(a: Rep, b: Rep) -> float:
    """A report was written in or after the latest year its text names: an undated report whose latest year is
    well after the other's publication (or, both undated, well apart from the other's) was written later, the
    more so the further (era_penalty per year beyond era_years). And a later report whose text names past years,
    all well after the other's breach date, tells of something that happened later (story_penalty)."""
    excess = 0
    for u, d in ((a, b), (b, a)):
        if u.published is None and d.published and u.years:
            excess = max(excess, max(u.years) - d.published.year - S("era_years"))
    if a.published is None and b.published is None and a.years and b.years:
        excess = max(excess, abs(max(a.years) - max(b.years)) - S("era_years"))
    penalty = S("era_penalty") * min(excess, S("era_max_years")) if excess > 0 else 0.0
    for x, y in ((a, b), (b, a)):
        event = y.incident or y.discovered
        past = {v for v in x.years if x.published and v < x.published.year}
        if event and past and x.published > event and min(past) > event.year + S("story_years"):
            penalty += S("story_penalty")
            break
    return penalty


def link_score(a: Rep, b: Rep) -> float:
    """How strongly two compatible reports are one incident (0: no link)."""
    ks = key_strength(a, b)
    ev = evidence(a, b)
    cos = float(a.vec @ b.vec) if (a.vec is not None and b.vec is not None) else None
    if (a.count and b.count and _ratio(a.count, b.count) > S("far_count_ratio")
            and (cos is None or cos < S("distant_cosine"))):
        return 0.0  # counts wildly apart and texts unlike each other: two incidents of one organization
    if ks > 0:
        if ks < S("key_primary") and a.count and b.count and _ratio(a.count, b.count) > S("alias_count_ratio"):
            return 0.0  # a supplier and its client, a parent company: their counts must agree
        if ks < S("key_primary") and ev <= S("weak_key_min_evidence"):
            return 0.0  # a parent's name shared by its subsidiaries' breaches: the evidence must agree too
        kind = key_kind(a, b)
        if kind in ("alias", "alias_weak") and ev < S("alias_min_evidence"):
            return 0.0  # nothing but an alias on both sides (a parent, a supplier): clear evidence needed
        if kind == "generic" and ev < S("generic_min_evidence"):
            return 0.0  # a generic name (the CISSS, a ministry and its government): the evidence must say so
        if kind == "mention" and ev < S("mention_min_evidence"):
            return 0.0  # two organizations named in both texts: the texts, dates and counts must agree too
        if kind == "parent" and ev < S("parent_min_evidence"):
            return 0.0  # a parent company's name shared by two of its subsidiaries' breaches: clear evidence needed
        score = ks + ev
        return score if score >= S("link_threshold") else 0.0
    # No shared key (an organization unknown, generic, or named differently): the evidence alone must be strong.
    # An undated report has no publication gap to check: its text, counts and data types must say more.
    undated = a.published is None or b.published is None
    if not undated and _days(a.published, b.published) > S("keyless_days"):
        return 0.0
    need = S("undated_keyless_threshold") if undated else S("keyless_threshold")
    distinct = (bool(set(a.primary) - a.keys.weak - a.keys.parents)
                and bool(set(b.primary) - b.keys.weak - b.keys.parents))  # a parent's name is not the breached one
    score = ev - (S("keyless_distinct_penalty") if distinct else 0.0)
    if cos is not None and cos >= S("fallback_cosine") and not (a.count and b.count and a.count != b.count):
        score = max(score, need)
    if score < need:
        return 0.0
    return S("link_threshold") + score - need  # on the scale of keyed links
