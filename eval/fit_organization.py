"""Fit the organization weights (resources/shared/organization_weights.json): a choice among a document's candidates.

Every organization candidate of a document (a group of mentions of one name) has the features
`incident_organization` computes from the text (mentions, title and lede, victim cues, custody,
dateline issuer; agency, media, photo credit, person, data item, programme, generic word,
masthead, law firm, court, recipient of a notification...). The weights are a conditional logit
over the candidates of each gold incident of train (`fitlib.fit_choice`), the right candidate
being the one whose names match the gold organization or one of its aliases.

Features that train never or rarely shows would get no weight from the data alone, so the fit
starts from PRIOR (the hand weights the rules had): one extra column, the prior score, is fitted
with the others (repeated PRIOR_COPIES times, so that fitlib's L2 penalty bears on it far less than
on a feature): the weights are the prior's, rescaled, plus a deviation per feature that the L2
penalty pulls towards zero; a feature the data says nothing about keeps its prior weight. A fitted weight whose sign contradicts its prior's (a junk feature that would
help a candidate) is dropped back to that prior share and the rest refitted.

Prints the k-fold cross-validated accuracy on train (folds grouped by incident_key), then the dev
accuracy of the weights fitted on all of train. Writes the weights only with --write.

    python eval/fit_organization.py [--l2 10.0] [--k 5] [--cache /tmp/org.pkl] [--write] [--show]
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fitlib  # noqa: E402

OUT = fitlib.ROOT / "extractor" / "resources" / "shared" / "organization_weights.json"

# Hand weights of the rules before any fitting: the starting point and the pull of the L2 penalty.
PRIOR = {
    "mentions": 1.0, "title_lede": 2.0, "early": 1.0, "victim_cue": 2.0, "regulator_subject": 1.5,
    "breach_sentence": 0.75, "custody": 4.0, "supplier_apposition": 2.0, "issuer": 3.0, "institutional": 0.5,
    "acronym": 0.0, "not_org_label": -4.0, "agency": -4.0, "media": -5.0, "non_victim": -3.0,
    "not_organization": -6.0, "calendar": -10.0, "person": -6.0, "data_item": -4.0, "product": -3.0,
    "generic": -3.0, "credit": -5.0, "masthead": -2.0, "recipient": -3.0, "law_firm": -4.0, "court": -4.0,
    "government": -1.0, "caps_phrase": -2.0, "title_only": 0.0, "headline": -3.0,
}


def parse(gold_docs: list[dict], cache: Path | None) -> list[dict]:
    """Each document through the pipeline up to (not including) the organization stage; cached when asked."""
    if cache and cache.exists():
        blob = pickle.loads(cache.read_bytes())
        if [d["id"] for d in blob] == [d["id"] for d in gold_docs]:
            return blob
    out = []
    for d in gold_docs:
        prep, sd = fitlib.pipeline_doc(d, until="incident_organization")
        meta = {k: v for k, v in prep.meta.items() if k != "published"}
        out.append({"id": d["id"], "lang": prep.language, "bytes": sd.to_bytes(exclude=["user_data"]),
                    "meta": meta, "sent_bounds": sd._.sent_bounds})
    if cache:
        cache.write_bytes(pickle.dumps(out))
    return out


def candidates(gold_docs: list[dict], parsed: list[dict]) -> list[dict]:
    """Per gold incident: the candidates' feature rows, which rows are right, their names."""
    from spacy.tokens import Doc

    from extractor.components.organization import FEATURES, OrganizationComponent
    from extractor.evaluate import any_name_matches
    from extractor.nlp import get_nlp

    comps: dict = {}
    out = []
    for d, p in zip(gold_docs, parsed):
        g = d["gold"]
        if not g.get("is_incident"):
            continue
        nlp = get_nlp(p["lang"])
        sd = Doc(nlp.vocab).from_bytes(p["bytes"])
        sd._.meta, sd._.sent_bounds = p["meta"], p["sent_bounds"]
        comp = comps.setdefault(p["lang"], OrganizationComponent(p["lang"]))
        groups = comp.group(comp.mentions(sd))
        comp.add_repeats(sd.text, groups)
        comp.features(sd, groups)
        targets = [g.get("organization"), *(g.get("organization_aliases") or [])]
        rows, right, names, tie = [], [], [], []
        for grp in groups:
            ns = [grp.best_name(), grp.acronym, *[m.text for m in grp.mentions]]
            rows.append([grp.features[k] for k in FEATURES])
            right.append(any_name_matches(ns, targets))
            names.append(grp.best_name())
            tie.append((comp.label_weight(grp), -grp.first))
        out.append({"id": d["id"], "lang": p["lang"], "group": fitlib.group_of(d), "X": np.array(rows, dtype=float),
                    "right": right, "names": names, "tie": tie, "gold": g.get("organization")})
    return out


PRIOR_COPIES = 50  # the prior column, repeated: the L2 penalty on the prior's share is 1/50 of a feature's


def with_prior(X: np.ndarray, prior: np.ndarray) -> np.ndarray:
    return np.hstack([X, np.repeat((X @ prior)[:, None], PRIOR_COPIES, axis=1)]) if len(X) else X


def fit(cands: list[dict], prior: np.ndarray, l2: float) -> np.ndarray:
    sets = []
    for c in cands:
        if not any(c["right"]) or len(c["X"]) < 2:
            continue
        # one right row per document (the best-scored under the prior); other right rows are left out
        rights = [i for i, r in enumerate(c["right"]) if r]
        keep_right = max(rights, key=lambda i: c["X"][i] @ prior)
        rows = [i for i in range(len(c["X"])) if i == keep_right or not c["right"][i]]
        sets.append((with_prior(c["X"][rows], prior), rows.index(keep_right)))
    keep = np.ones(len(prior), dtype=bool)
    for _ in range(len(prior)):
        cols = np.append(keep, np.ones(PRIOR_COPIES, dtype=bool))
        w = fitlib.fit_choice([(F * cols, g) for F, g in sets], l2=l2)
        n = len(prior)
        scale = w[n:].sum()
        # one weight per feature, on the prior's scale (points: what incident_relevance reads); the argmax is unchanged
        full = w[:n] / scale + prior if scale > 0 else w[:n]
        # a weight whose sign contradicts the prior (a junk feature that helps) is noise of a small corpus:
        # that feature keeps its prior share only, and the rest is refitted
        wrong = keep & (full * prior < 0)
        if not wrong.any():
            return full
        keep &= ~wrong
    return full


def choose(c: dict, w: np.ndarray, min_score: float):
    if not len(c["X"]):
        return None
    s = c["X"] @ w
    best = max(range(len(s)), key=lambda i: (s[i], *c["tie"][i]))
    return best if s[best] > min_score else None


def accuracy(cands: list[dict], w: np.ndarray, min_score: float = 0.0) -> tuple[int, int]:
    right = 0
    for c in cands:
        b = choose(c, w, min_score)
        right += b is not None and c["right"][b]
    return right, len(cands)


def by_language(cands, w) -> str:
    return fitlib.ratios({lang: accuracy([c for c in cands if c["lang"] == lang], w)
                          for lang in sorted({c["lang"] for c in cands})})


PARSER = fitlib.parser(__doc__, 10.0, "L2 penalty", "the weights into resources/shared/organization_weights.json")
PARSER.add_argument("--train", type=Path, default=fitlib.TRAIN)
PARSER.add_argument("--dev", type=Path, default=fitlib.DEV)
PARSER.add_argument("--cache", type=Path, help="keep the parsed documents in this file (re-parsed when the corpus changes)")
PARSER.add_argument("--show", action="store_true", help="list the documents the fitted weights get wrong")


def run(a, train_docs: list[dict], dev_docs: list[dict]) -> int:
    from extractor.components.organization import FEATURES

    both = train_docs + dev_docs
    cached = parse(both, a.cache)
    parsed = dict(zip([d["id"] for d in both], cached))
    train = candidates(train_docs, [parsed[d["id"]] for d in train_docs])
    dev = candidates(dev_docs, [parsed[d["id"]] for d in dev_docs])
    prior = np.array([PRIOR.get(k, 0.0) for k in FEATURES])
    ids = {c["id"] for c in train}
    incident_docs = [d for d in train_docs if d["id"] in ids]
    index = {c["id"]: c for c in train}
    rows = [index[d["id"]] for d in incident_docs]

    print(f"prior weights: train {by_language(train, prior)}; dev {by_language(dev, prior)}")
    per_lang: dict = {}

    def held_out(w, idx):
        for i in idx:
            b = choose(rows[i], w, 0.0)
            tally = per_lang.setdefault(rows[i]["lang"], [0, 0])
            tally[0] += b is not None and rows[i]["right"][b]
            tally[1] += 1
        return accuracy([rows[i] for i in idx], w)

    cv = fitlib.cross_validate(incident_docs, lambda idx: fit([rows[i] for i in idx], prior, a.l2), held_out, k=a.k)
    w = fit(train, prior, a.l2)
    fitlib.report(a.k, f"{fitlib.ratios({'all': (cv['right'], cv['total']), **dict(sorted(per_lang.items()))})}; "
                       f"folds {cv['per_fold']}", by_language(train, w), by_language(dev, w))
    if a.show:
        for c in train + dev:
            b = choose(c, w, 0.0)
            if b is None or not c["right"][b]:
                got = None if b is None else c["names"][b]
                print(f"  wrong: {c['id']}: got {got!r}, gold {c['gold']!r}")
    weights = {
        "_doc": "Weights of the organization choice (extractor/components/organization.py), fitted by "
                "eval/fit_organization.py on train: score = sum of weight x feature; the winner needs more than min_score.",
        "min_score": 0.0,
        "l2": a.l2,
        "features": {k: round(float(v), 4) for k, v in zip(FEATURES, w)},
    }
    print(json.dumps(weights["features"], indent=1))
    if a.write:
        OUT.write_text(json.dumps(weights, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(fitlib.main(run, PARSER))
