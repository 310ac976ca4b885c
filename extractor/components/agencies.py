"""`incident_agencies`: authorities notified of the breach or investigating it.

The mentions of authorities come from ``agency_mentions.py`` (gazetteer names, anaphors,
implicit complaints, provincial bodies resolved by the province of the text).

Roles are a scored choice (issue 12, mechanism 7): every (mention, role) pair gets features from
the mention's own clause — the sentence cut at clause breaks and at a coordination that starts a
new subject ("La CAI a été avisée | et la SQ mène une enquête") — such as a cue of that role in
the clause, before or after the mention, in the rest of the sentence or in the next one,
negation, hypothetical or question, generic or anaphoric name. The linear score uses the weights
of ``resources/shared/agency_weights.json`` (fitted by ``eval/fit_agencies.py``); an authority
keeps a role when one of its mentions scores above the threshold for it.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from spacy.tokens import Doc

from ..cue_index import doc_low
from ..resources import ROOT
from ._util import clause_bounds, doc_text, register, sentence_bounds
from .agency_mentions import Mention, gazetteer, names_of, rules_for

__all__ = ["AgenciesComponent", "AgencyHit", "gazetteer", "names_of", "score", "select", "weights"]

for _name in ("agencies", "agency_candidates"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)

ROLES = ("notified", "investigating")
WINDOW = 400  # characters of a clause or sentence read on each side of a mention
NEG_SCOPE = 40  # characters after a negation whose role cues it negates (no coordination between)
# an apposition or a bracket right after a mention ("The CNIL, France's regulator, was notified";
# "la CAI (la Commission) a été avisée"): the distance to a cue after it does not count it
_APPOSITION = re.compile(r"(?: ?\([^()\n]{1,120}\)|,[^,;:.!?()\n]{1,80},)")
ACTOR_GAP = 60  # characters between an authority and its active verb, and between the verb and its object


@lru_cache(maxsize=None)
def weights() -> dict:
    with open(ROOT / "shared" / "agency_weights.json", encoding="utf-8") as fh:
        return json.load(fh)


@dataclass
class AgencyHit:
    code: str
    name: str
    start: int
    end: int
    roles: set = field(default_factory=set)
    generic: bool = False
    scores: dict = field(default_factory=dict)


def score(f: dict, w: dict) -> float:
    """The linear score of one (mention, role) candidate."""
    return w.get("bias", 0.0) + sum(w["features"].get(k, 0.0) * v for k, v in f.items())


def select(cands: list[dict], w: dict, info: dict) -> dict[str, dict[str, tuple[float, int]]]:
    """{code: {role: (score, index of its best candidate)}} for the roles that score above the threshold.

    Shared by the component and eval/fit_agencies.py. A generic "police" next to a police force the
    text names is that force, not another one."""
    threshold = float(w.get("threshold", 0.0))
    best: dict[tuple[str, str], tuple[float, int]] = {}
    for i, c in enumerate(cands):
        s = score(c["features"], w)
        key = (c["code"], c["role"])
        if key not in best or s > best[key][0]:
            best[key] = (s, i)
    out: dict[str, dict[str, tuple[float, int]]] = {}
    for (code, role), (s, i) in best.items():
        if s > threshold:
            out.setdefault(code, {})[role] = (s, i)
    police = {c for c in out if info[c].get("police")} - {"POLICE_OTHER"}
    if "POLICE_OTHER" in out and police:
        named = any(c["code"] == "POLICE_OTHER" and c["kind"] == "name" for c in cands)
        if not named:
            del out["POLICE_OTHER"]
    return out


make_agencies = register("incident_agencies", lambda lang: AgenciesComponent(lang))


def _has_word(s: str) -> bool:
    return re.search(r"[^\W\d_]{2}", s) is not None


class AgenciesComponent:
    def __init__(self, lang: str):
        self.rules = rules_for(lang)

    # -- mentions ---------------------------------------------------------------------------

    # -- features ---------------------------------------------------------------------------

    def predicate(self, text: str, s: int, e: int) -> bool:
        """Whether text[s:e] says something of its own (a role cue or a negation): a clause of its own."""
        r = self.rules
        return e > s and _has_word(text[s:e]) and any(rx.search(text, s, e) for rx in (r.notified, r.investigating, r.negated))

    def own_predicate(self, text: str, after_coord: int, m: Mention, hi: int) -> bool:
        """Whether mention `m`, right after a coordination, is the subject of a predicate of its own:
        a role cue or a negation within 40 characters after it, no comma or relative pronoun between."""
        r = self.rules
        if m.start - after_coord > 12:
            return False
        hi = min(hi, m.end + 40)
        for rx in (r.notified, r.investigating, r.negated):
            c = rx.search(text, m.end, hi)
            if c is not None and "," not in text[m.end:c.start()] and not r.conjunct_re.search(text, m.end, c.start()):
                return True
        return False

    def negated_cue(self, text: str, c, negs: list) -> bool:
        """Whether cue `c` is in the scope of a negation of its clause: inside it ("was not notified"),
        or at most NEG_SCOPE characters after it with no coordination between ("Police are not
        involved in the case": no case of theirs)."""
        for n in negs:
            if n.start() <= c.start() < n.end():
                return True
            if n.end() <= c.start() <= n.end() + NEG_SCOPE and not self.rules.coord_re.search(text, n.end(), c.start()):
                return True
        return False

    def actor_spans(self, text: str, ments: list[Mention], i: int, hi: int) -> list[tuple[int, int]]:
        """The active notifying verbs whose subject is mention `i` and whose object is another
        authority ("La SQ a avisé la CAI", "The OPP notified the IPC"): the mention is the notifier,
        so these cues are its act, not a role of its own. The verb is within ACTOR_GAP characters
        after the mention with no other authority between, or farther in its sentence right after a
        conjunction that joins a second predicate to the mention's clause ("La SQ a été victime
        d'une fuite ..., et a avisé la CAI"); the object within ACTOR_GAP after it."""
        rx, conj = self.rules.active_re, self.rules.conjunct_re
        m = ments[i]
        if rx is None:
            return []
        out = []
        for v in rx.finditer(text, m.end, hi):
            between = [x for x in ments if m.end <= x.start < v.start() and x.code != m.code]
            if between:
                break
            if v.start() - m.end > ACTOR_GAP:
                j = None
                for j in conj.finditer(text, max(m.end, v.start() - 8), v.start()):
                    pass
                if j is None or text[j.end():v.start()].strip():
                    continue
            obj = next((x for x in ments if v.end() <= x.start < min(hi, v.end() + ACTOR_GAP) and x.code != m.code), None)
            if obj is not None:
                out.append((v.start(), v.end()))
        return out

    def listed(self, text: str, a: Mention, b: Mention) -> bool:
        """Whether mentions `a` and `b` (in this order) are members of one list of authorities."""
        rx = self.rules.list_joiner_re
        return rx is not None and a.end <= b.start and rx.search(text[a.end:b.start]) is not None

    def segments(self, text: str, ments: list[Mention], sents) -> dict[int, tuple[int, int, int, int]]:
        """For each mention (by index): (segment start, segment end, sentence start, sentence end).
        The segment is its clause, cut between two mentions at a coordination that starts a new
        subject: the first mention has its own predicate (a role cue) before the coordination
        ("La CAI a été avisée | et la SQ enquête"); a list of authorities shares one clause."""
        r = self.rules
        out = {}
        by_clause: dict[tuple[int, int], list[int]] = {}
        bounds = {}
        for i, m in enumerate(ments):
            lo, hi = sentence_bounds(sents, m.start)
            hi = min(hi, len(text))
            cl, ch = clause_bounds(text, m.start, m.end, max(lo, m.start - WINDOW), min(hi, m.end + WINDOW), r.breaks)
            by_clause.setdefault((cl, ch), []).append(i)
            bounds[i] = (lo, hi)
        for (cl, ch), idx in by_clause.items():
            idx.sort(key=lambda i: ments[i].start)
            cuts = [cl]
            for a, b in zip(idx, idx[1:]):
                ma, mb = ments[a], ments[b]
                cut = None
                coords = list(r.coord_re.finditer(text, ma.end, max(ma.end, mb.start)))
                for c in coords:
                    if self.predicate(text, ma.end, c.start()):
                        cut = c.start()
                # "Le CIUSSS a avisé la CAI de la fuite, et le SPVM a ouvert une enquête": the first
                # mention is the object of a predicate before it, the second the subject of its own
                if cut is None and coords:
                    left = next((c for c in reversed(cuts) if c is not None), cl)
                    nxt = ments[idx[idx.index(b) + 1]].start if b != idx[-1] else ch
                    if self.predicate(text, left, ma.start) and self.own_predicate(text, coords[-1].end(), mb, min(nxt, ch)):
                        cut = coords[-1].start()
                cuts.append(cut)
            cuts.append(ch)
            # segment of idx[k]: from the last cut at or before it, to the next cut after it
            for k, i in enumerate(idx):
                left = next((c for c in reversed(cuts[: k + 1]) if c is not None), cl)
                right = next((c for c in cuts[k + 1:] if c is not None), ch)
                out[i] = (left, right) + bounds[i]
        return out

    def features(self, doc: Doc, ments: list[Mention]) -> list[tuple[Mention, str, dict]]:
        text, r = doc_text(doc), self.rules
        sents = doc._.sent_bounds
        meta = doc._.meta or {}
        title_end = meta.get("title_end") or 0
        regulator_doc = meta.get("kind") == "regulator"
        segs = self.segments(text, ments, sents)
        out = []
        in_seg: dict[tuple[int, int], set] = {}
        for i, m in enumerate(ments):
            in_seg.setdefault(segs[i][:2], set()).add(m.code)
        starts = [m.start for m in ments]
        for i, m in enumerate(ments):
            sl, sh, lo, hi = segs[i]
            full_hi = hi
            sl, sh = max(sl, m.start - WINDOW), min(sh, m.end + WINDOW)
            lo, hi = max(lo, m.start - WINDOW), min(hi, m.end + WINDOW)
            police = bool(r.info[m.code].get("police"))
            seg = segs[i][:2]
            negs = list(r.negated.finditer(text, sl, sh))
            neg = bool(negs)
            question = r.question_re.search(text, lo, hi) is not None
            collab = r.collab.search(text, sl, sh) is not None
            # advice to the public ("recommande aux clients de") is no finding: its words are no cue
            advice = list(r.advice_re.finditer(text, sl, sh))
            others_in_seg = len(in_seg[seg] - {m.code})
            nlo, nhi = sentence_bounds(sents, full_hi + 1) if full_hi < len(text) else (lo, hi)
            has_next = (nlo, nhi) != (lo, hi) and nhi - nlo < 400
            next_other = has_next and any(ments[j].code != m.code for j in range(bisect.bisect_left(starts, nlo), bisect.bisect_left(starts, nhi)))
            # the cues of each role in the segment, outside the mention, advice and negations: found
            # once, read as this role's cues and as the other role's
            kept = {role: [c for c in r.cue[role].finditer(text, sl, sh) if not (m.start <= c.start() < m.end)
                           and not any(a.start() <= c.start() < a.end() for a in advice)
                           and not (negs and self.negated_cue(text, c, negs))] for role in ROLES}
            acts = self.actor_spans(text, ments, i, sh)
            if acts:  # "La SQ a avisé la CAI": the SQ's act, no notification of the SQ
                kept["notified"] = [c for c in kept["notified"] if not any(a < c.end() and c.start() < b for a, b in acts)]
            for role in ROLES:
                other = "investigating" if role == "notified" else "notified"
                rx = r.cue[role]
                cues = kept[role]
                before = any(c.end() <= m.start for c in cues)
                after = any(c.start() >= m.end for c in cues)
                near = min(cues, key=lambda c: c.start() - m.end if c.start() >= m.end else m.start - c.end(), default=None)
                dist = None if near is None else (near.start() - m.end if near.start() >= m.end else m.start - near.end())
                if near is not None and near.start() >= m.end:
                    ap = _APPOSITION.match(text, m.end)
                    if ap is not None and ap.end() <= near.start():
                        dist -= ap.end() - m.end
                if m.kind == "implicit" and role == "notified":  # "a porté plainte" is itself the notification
                    before, dist = True, 0
                # "X a été avisée et a ouvert une enquête", "..., which has opened an investigation": two
                # predicates of one subject, each says its role; the later cue is as near as its conjunction
                conjoined = False
                for c in cues:
                    if c.start() < m.end:
                        continue
                    j = None
                    for j in r.conjunct_re.finditer(text, m.end, c.start()):
                        pass
                    if j is not None and any(not (m.start <= o.start() < m.end) for o in r.cue[other].finditer(text, sl, j.start())):
                        conjoined = True
                        dist = min(dist, c.start() - j.end()) if dist is not None else c.start() - j.end()
                if not conjoined:
                    for o in r.cue[other].finditer(text, m.end, sh):
                        j = None
                        for j in r.conjunct_re.finditer(text, m.end, o.start()):
                            pass
                        if j is not None and any(c.end() <= j.start() for c in cues):
                            conjoined = True
                hl = max(sl, min(m.start, near.start() if near else m.start) - 30)
                hh = min(sh, max(m.end, near.end() if near else m.end) + (0 if near else 30))
                hyp = r.hyp_re.search(text, hl, hh) is not None
                other_cue = bool(kept[other])
                sent_cue = any(not (sl <= c.start() < sh) for c in rx.finditer(text, lo, hi))
                next_cue = bool(has_next and not cues and rx.search(text, nlo, nhi))
                next_neg = bool(next_cue and r.negated.search(text, nlo, nhi))
                inv = role == "investigating"
                f = {
                    "investigating_role": float(inv),
                    "cue_before": float(before),
                    "cue_after": float(after),
                    "cue_near": math.exp(-dist / 60.0) if dist is not None else 0.0,
                    "other_role_cue": float(other_cue and not conjoined),
                    "conjoined_predicate": float(conjoined),
                    "cue_rest_of_sentence": float(sent_cue and not cues),
                    "cue_next_sentence": float(next_cue and not next_neg),
                    "next_sentence_other_agency": float(next_cue and next_other),
                    "collaboration_fit": float(collab and (inv == police)),
                    "collaboration_other": float(collab and (inv != police)),
                    "negated": float(neg),
                    "hypothetical": float(hyp),
                    "question": float(question),
                    "generic_name": float(m.kind == "generic"),
                    "anaphor": float(m.kind == "anaphor"),
                    "implicit_complaint": float(m.kind == "implicit" and not inv and not regulator_doc),
                    "implicit_regulator_document": float(m.kind == "implicit" and regulator_doc),
                    "implicit_investigating": float(m.kind == "implicit" and inv),
                    "in_title": float(m.start < title_end),
                    "police_investigating": float(police and inv),
                    "regulator_document": float(regulator_doc and not police and inv),
                    "shared_clause": float(others_in_seg > 0),
                }
                out.append((m, role, f))
        # a list of authorities in one clause ("signalé au Centre..., au Commissariat... et à la police"):
        # each member has the cue of the nearest member
        # ("à la GRC, au Commissariat et à la police": only what a list joiner links; "La SQ a avisé
        # la CAI" is no list)
        groups: dict[tuple, list[dict]] = {}
        last: dict[tuple, int] = {}
        for (m, role, f), i in zip(out, [i for i in range(len(ments)) for _ in ROLES]):
            key = (segs[i][:2], role)
            run = last.get(key)
            if run is None or not self.listed(text, ments[run[0]], m):
                run = (i, len(groups))
                groups[(key, run[1])] = []
            else:
                run = (i, run[1])
            last[key] = run
            groups[(key, run[1])].append(f)
        for fs in groups.values():
            if len(fs) > 1:
                for key in ("cue_before", "cue_after", "cue_near", "hypothetical"):
                    top = max(f[key] for f in fs)
                    for f in fs:
                        f[key] = top if key != "hypothetical" else min(f[key] for f in fs)
        return out

    @staticmethod
    def score(f: dict) -> float:
        return score(f, weights())

    def __call__(self, doc: Doc) -> Doc:
        text, r = doc_text(doc), self.rules
        ments = r.mentions(text, doc._.meta, doc_low(doc, text))
        cands = self.features(doc, ments)
        doc._.agency_candidates = [{"code": m.code, "role": role, "start": m.start, "end": m.end, "kind": m.kind,
                                    "features": f} for m, role, f in cands]
        chosen = select(doc._.agency_candidates, weights(), r.info)
        found: dict[str, AgencyHit] = {}
        for code, roles in sorted(chosen.items(), key=lambda kv: min(i for _, i in kv[1].values())):
            best_role = max(roles, key=lambda k: roles[k][0])
            m = ments[roles[best_role][1] // len(ROLES)]
            hit = found[code] = AgencyHit(code, r.display_name(code, text[m.start:m.end]), m.start, m.end,
                                          set(roles), m.kind != "name", {k: round(v[0], 4) for k, v in roles.items()})
            # the name shown and its evidence: the first proper name of the authority, when there is one
            if hit.generic:
                proper = next((x for x in ments if x.code == code and x.kind == "name"), None)
                if proper is not None:
                    hit.start, hit.end, hit.generic = proper.start, proper.end, False
                    hit.name = r.display_name(code, text[proper.start:proper.end])
        doc._.agencies = sorted(found.values(), key=lambda h: h.start)
        return doc
