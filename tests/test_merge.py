"""Reports -> incidents: cross-language merging, the timeline, apart-keeping, manual decisions, order independence.

Every report here is our own short text, built directly as a Record (no extractor).
"""

from __future__ import annotations

import itertools
import json
import random

import pytest

from extractor import merge
from extractor.errors import InputError
from extractor.record import Record
from extractor.store import Store


def ev(text="x"):
    return {"text": text, "start": 0, "end": len(text)}


def rec(sid, lang, published, org, *, acronym=None, aliases=(), count=None, kind="news", codes=(), agencies=(),
        incident=None, discovered=None, is_incident=True):
    d = {
        "source": {"id": sid, "url": f"https://example.org/{sid}", "language": lang, "published": published,
                   "kind": kind, "title": f"title {sid}"},
        "is_incident": is_incident,
        "organization": {"name": org, "acronym": acronym, "aliases": list(aliases), "evidence": ev(org)},
        "victims": {"count": count, "evidence": ev("n") if count is not None else None},
        "data_types": [{"code": c, "evidence": ev(c)} for c in codes],
        "agencies": [{"code": c, "name": c, "role": "notified", "evidence": ev(c)} for c in agencies],
        "dates": {},
    }
    if incident:
        d["dates"]["incident"] = {"date": incident, "evidence": ev("d")}
    if discovered:
        d["dates"]["discovered"] = {"date": discovered, "evidence": ev("d")}
    return Record.model_validate(d)


# Our own short leads (French and English) for the texts the embeddings read.
TEXTS = {
    "post-fr": "Postes Canada avise 12 000 clients qu'un fournisseur a exposé leurs adresses et numéros de téléphone "
               "lors d'une cyberattaque survenue au printemps.",
    "post-en": "Canada Post is warning 12,000 customers that a supplier exposed their mailing addresses and phone "
               "numbers in a cyberattack this spring.",
    "dj-fr": "Le Mouvement Desjardins annonce qu'un employé a transmis à des tiers les données de 2,9 millions de membres.",
    "dj-en": "Desjardins Group now says 4.2 million members were affected by the leak caused by an employee.",
    "dj-en2": "Quebec's privacy regulator ends its inquiry into the Desjardins leak by a former employee.",
    "vet-1": "La Clinique vétérinaire Beauport signale le vol d'un ordinateur portable contenant les dossiers de clients.",
    "vet-2": "La Clinique vétérinaire Beauport informe ses clients d'un rançongiciel ayant chiffré son système de rendez-vous.",
    "sct-qc": "Le Secrétariat du Conseil du trésor confirme une fuite touchant les données de fonctionnaires québécois.",
    "tbs-ca": "The Treasury Board of Canada Secretariat says emails of federal applicants were exposed by mistake.",
    "ville": "A city in Ontario says a misdirected email exposed the names of 40 residents.",
}


def add(store, record, text=None):
    with store.transaction() as conn:
        return merge.import_record(conn, record, text=TEXTS.get(record.source.id, "") if text is None else text)


def incidents(store):
    return list(merge.export_incidents(store.conn))


def by_source(store):
    return {r["source_id"]: i["id"] for i in incidents(store) for r in i["reports"]}


def canonical(store):
    out = []
    for inc in incidents(store):
        inc = dict(inc)
        inc.pop("created_at"), inc.pop("updated_at"), inc.pop("previous_ids")  # history: depends on the order
        for r in inc["reports"]:
            r.pop("report_id")
        for e in inc["timeline"]:
            e.pop("report_id")
        for field in ("data_types", "agencies"):
            for d in inc[field]:
                d.pop("report_ids")
        for part in [inc["organization"], inc["victims"], *(inc["dates"].values())]:
            if part:
                part.pop("report_id", None)
        out.append(inc)
    return json.dumps(out, sort_keys=True)


@pytest.fixture()
def store(tmp_path):
    with Store(tmp_path / "t.db") as s:
        yield s


def test_fold_and_keys():
    assert merge.fold("La Société Exemple Ltée.") == "societe exemple"
    assert merge.fold("L'Équipe du Nord s.e.n.c.") == "equipe du nord"
    assert merge.fold("The Giant Widget Corp.") == "giant widget"
    fr = merge.org_keys({"name": "Agence du revenu du Canada"}).primary
    en = merge.org_keys({"name": "Canada Revenue Agency", "acronym": "CRA"}).primary
    assert fr == en == ["body:ca-cra"]
    qc = merge.org_keys({"name": "Treasury Board Secretariat", "acronym": "SCT"}).primary
    ca = merge.org_keys({"name": "Secrétariat du Conseil du Trésor du Canada", "acronym": "SCT",
                         "aliases": ["Secrétariat du Conseil du Trésor"]})
    assert qc == ["body:qc-sct"] and ca.primary == ["body:ca-tbs"] and "body:qc-sct" not in ca.aliases
    # a word that names no organization on its own gives no name key, only the generic key that needs evidence
    generic_only = merge.org_keys({"name": "CHU", "aliases": ["ministère"]})
    assert generic_only.primary == [] and generic_only.aliases == [] and generic_only.generic == ["g:chu"]


def test_same_incident_across_languages_merges(store):
    a = add(store, rec("post-fr", "fr", "2024-05-02", "Postes Canada", count=12000, codes=["address", "phone"]))
    b = add(store, rec("post-en", "en", "2024-05-03", "Canada Post", count=12000, codes=["address"], agencies=["OPC"]))
    assert a == b == merge.incident_id_for("post-fr")
    (inc,) = incidents(store)
    assert [r["language"] for r in inc["reports"]] == ["fr", "en"]
    assert {d["code"]: d["source_ids"] for d in inc["data_types"]} == {"address": ["post-fr", "post-en"], "phone": ["post-fr"]}
    assert [(e["kind"], e["detail"].get("code")) for e in inc["timeline"] if e["kind"] == "agency_added"] == [("agency_added", "OPC")]
    # the embeddings are stored once per report
    assert store.conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 2


def test_count_revision_enters_the_timeline(store):
    add(store, rec("dj-fr", "fr", "2019-06-20", "Mouvement Desjardins", count=2_900_000, kind="press_release"))
    add(store, rec("dj-en", "en", "2019-11-01", "Desjardins Group", count=4_200_000))
    (inc,) = incidents(store)
    rev = [e for e in inc["timeline"] if e["kind"] == "count_revised"]
    assert [(e["detail"]["from"], e["detail"]["to"], e["at"], e["source_id"]) for e in rev] == [
        (2_900_000, 4_200_000, "2019-11-01", "dj-en")]
    assert inc["victims"]["count"] == 4_200_000 and inc["victims"]["source_id"] == "dj-en"
    # the organization's own press release names it
    assert inc["organization"]["name"] == "Mouvement Desjardins" and inc["organization"]["source_id"] == "dj-fr"
    assert inc["timeline"][0]["kind"] == "first_seen" and inc["first_seen"] == "2019-06-20"


def test_two_breaches_at_one_organization_stay_apart(store):
    org = "Clinique vétérinaire Beauport inc."
    add(store, rec("vet-1", "fr", "2023-03-10", org, incident="2023-03-01", count=800))
    add(store, rec("vet-2", "fr", "2023-11-20", org, incident="2023-11-12", count=2500))
    assert len(incidents(store)) == 2
    # a later report of the first breach still finds it, not the second one
    add(store, rec("vet-1b", "en", "2023-03-15", "Beauport Veterinary Clinic", aliases=[org], incident="2023-03-01"),
        text="A veterinary clinic in Beauport says a stolen laptop held client files.")
    m = by_source(store)
    assert m["vet-1b"] == m["vet-1"] != m["vet-2"]


def test_breach_after_the_first_report_is_another_incident(store):
    add(store, rec("ville-a", "en", "2024-01-10", "Town of Exampleton", count=40))
    add(store, rec("ville-b", "en", "2024-06-02", "Town of Exampleton", discovered="2024-05-20"))
    m = by_source(store)
    assert m["ville-a"] != m["ville-b"]


def test_quebec_and_federal_treasury_board_stay_apart(store):
    add(store, rec("sct-qc", "fr", "2024-03-01", "Secrétariat du Conseil du trésor", acronym="SCT"))
    add(store, rec("tbs-ca", "en", "2024-03-05", "Treasury Board of Canada Secretariat", acronym="SCT"))
    assert len(set(by_source(store).values())) == 2


def test_manual_merge_and_split_survive_rematch(store):
    add(store, rec("post-fr", "fr", "2024-05-02", "Postes Canada", count=12000))
    add(store, rec("post-en", "en", "2024-05-03", "Canada Post", count=12000))
    add(store, rec("ville", "en", "2024-05-04", "Town of Exampleton", count=40))
    m = by_source(store)
    # split the English report out of the Canada Post incident
    with store.transaction() as conn:
        new = merge.split_report(conn, m["post-fr"], "post-en")
    # merge the town's incident with the Canada Post one
    with store.transaction() as conn:
        merged = merge.merge_incidents(conn, m["post-fr"], m["ville"])
    before = by_source(store)
    assert before["post-en"] == new != before["post-fr"] == before["ville"] == merged
    with store.transaction() as conn:
        merge.rematch(conn)
    after = by_source(store)
    assert after == before
    rows = dict(store.conn.execute("SELECT r.source_id, ir.manual FROM incident_reports ir JOIN reports r ON r.id=ir.report_id"))
    assert rows == {"post-fr": 1, "post-en": 1, "ville": 1}
    kinds = {e["kind"] for i in incidents(store) for e in i["timeline"]}
    assert {"merged", "split"} <= kinds
    # a new report of the same breach attaches, but does not undo the split
    add(store, rec("post-fr2", "fr", "2024-05-06", "Société canadienne des postes", count=12000),
        text="Postes Canada précise que 12 000 clients sont touchés.")
    final = by_source(store)
    assert final["post-en"] != final["post-fr"]
    assert {k: v for k, v in final.items() if k != "post-fr2"} == before


def test_manual_decision_errors(store):
    add(store, rec("ville", "en", "2024-05-04", "Town of Exampleton"))
    (iid,) = by_source(store).values()
    with pytest.raises(InputError):
        with store.transaction() as conn:
            merge.merge_incidents(conn, iid, "inc-doesnotexist0000")
    with pytest.raises(InputError):
        with store.transaction() as conn:
            merge.split_report(conn, iid, "ville")  # the only report: nothing to split


REPORTS = [
    rec("post-fr", "fr", "2024-05-02", "Postes Canada", count=12000, codes=["address"]),
    rec("post-en", "en", "2024-05-03", "Canada Post", count=12000, codes=["phone"], agencies=["OPC"]),
    rec("dj-fr", "fr", "2019-06-20", "Mouvement Desjardins", count=2_900_000, kind="press_release"),
    rec("dj-en", "en", "2019-11-01", "Desjardins Group", count=4_200_000, agencies=["CAI"]),
    rec("dj-en2", "en", "2020-12-14", "Desjardins", kind="regulator", count=9_700_000),
    rec("vet-1", "fr", "2023-03-10", "Clinique vétérinaire Beauport", incident="2023-03-01"),
    rec("vet-2", "fr", "2023-11-20", "Clinique vétérinaire Beauport", incident="2023-11-12"),
    rec("undated", "en", None, "Canada Post Corporation", count=12000),
    rec("not-incident", "fr", "2024-01-01", "Postes Canada", is_incident=False),
]


def test_shuffled_orders_give_identical_incidents(tmp_path):
    shapes = set()
    orders = [list(REPORTS), list(reversed(REPORTS))]
    rng = random.Random(7)
    for _ in range(3):
        o = list(REPORTS)
        rng.shuffle(o)
        orders.append(o)
    for k, order in enumerate(orders):
        with Store(tmp_path / f"o{k}.db") as s:
            for r in order:
                add(s, r)
            shapes.add(canonical(s))
            n = len(incidents(s))
    assert len(shapes) == 1
    assert n == 4  # Canada Post, Desjardins, two Beauport breaches


def test_every_pair_order_of_a_revision_chain(tmp_path):
    chain = REPORTS[2:5]
    seen = set()
    for k, order in enumerate(itertools.permutations(chain)):
        with Store(tmp_path / f"p{k}.db") as s:
            for r in order:
                add(s, r)
            (inc,) = incidents(s)
            seen.add(canonical(s))
    assert len(seen) == 1
    revs = [(e["detail"]["from"], e["detail"]["to"]) for e in inc["timeline"] if e["kind"] == "count_revised"]
    assert revs == [(2_900_000, 4_200_000), (4_200_000, 9_700_000)]


def test_records_without_text_still_match(store):
    add(store, rec("a", "fr", "2024-02-01", "Agence du revenu du Canada", count=300), text="")
    add(store, rec("b", "en", "2024-02-02", "Canada Revenue Agency", acronym="CRA", count=300), text="")
    assert len(incidents(store)) == 1
    assert store.conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 0


# -- issue 13: one incident per real breach on real coverage ---------------------------------------------------
def test_names_generic_heads_and_places_never_make_a_key_alone():
    keys = merge.org_keys
    for alone in ("Ville", "Centre", "Québec", "Toronto", "CISSS", "Ministry of Health", "Gouvernement"):
        k = keys({"name": alone})
        assert k.primary == [] and k.aliases == [], alone
        assert all(g.startswith("g:") for g in k.generic), alone  # generic keys only link with evidence
    assert keys({"name": "Toronto"}).all() == set()  # a place alone gives nothing at all
    # a generic head with a place is the name of a body, but only a weak key
    town = keys({"name": "Ville de Gatineau"})
    assert town.primary and set(town.primary) <= town.weak
    assert keys({"name": "Clinique Rivière-Verte"}).weak == set()


def test_names_key_reduction_leaves_no_dangling_word_nor_english_article():
    from extractor import names

    assert names.fold("The Northern Widget Company") == "northern widget"
    assert names.fold("A Better Pharmacy Ltd.") == "better pharmacy"
    fr = merge.org_keys({"name": "Banque Laurentienne du Canada"}).primary
    assert all(not k.endswith((" du", " de", " of")) for k in fr)
    assert "n:bank laurent" in fr  # the shorter form without "Canada", no "du" left behind


def test_french_and_english_names_that_translate_word_by_word_share_a_key():
    pairs = [("Banque Laurentienne du Canada", "Laurentian Bank of Canada"),
             ("Bibliothèque publique de Sherbrooke", "Sherbrooke Public Library"),
             ("Commission des services électriques de Laval", "Laval Electrical Services Commission"),
             ("Conseil des ressources humaines de Beauce", "Beauce Human Resources Board")]
    for fr, en in pairs:
        assert merge.org_keys({"name": fr}).primary[0] == merge.org_keys({"name": en}).primary[0], (fr, en)


def test_translated_names_merge_into_one_incident(store):
    add(store, rec("lb-fr", "fr", "2024-05-02", "Banque Laurentienne du Canada", count=2300, codes=["bank_account"]),
        text="La Banque Laurentienne du Canada avise 2 300 clients qu'un fichier de comptes a été exposé.")
    add(store, rec("lb-en", "en", "2024-05-04", "Laurentian Bank of Canada", count=2300, codes=["bank_account"]),
        text="Laurentian Bank of Canada tells 2,300 clients that a file of account numbers was exposed.")
    assert len(incidents(store)) == 1


def test_an_acronym_from_the_initials_of_the_name_in_the_other_language(store):
    from extractor import names

    assert "csel" in names.initials(names.content_tokens(names.fold("Laval Electrical Services Commission")))
    assert "opl" in names.initials(names.content_tokens(names.fold("Bibliothèque publique d'Ottawa")))
    add(store, rec("cs-en", "en", "2024-02-10", "Laval Electrical Services Commission", count=640), text="")
    add(store, rec("cs-fr", "fr", "2024-02-12", "CSEL", acronym="CSEL", count=640), text="")
    add(store, rec("opl-fr", "fr", "2024-02-11", "Bibliothèque publique d'Ottawa", count=75), text="")
    add(store, rec("opl-en", "en", "2024-02-11", "OPL", acronym="OPL", count=75), text="")
    m = by_source(store)
    assert m["cs-en"] == m["cs-fr"] != m["opl-fr"] == m["opl-en"]


def test_a_city_name_shared_by_two_organizations_links_nothing(store):
    add(store, rec("gat-ville", "fr", "2024-04-02", "Ville de Gatineau", aliases=["Gatineau"], count=40,
                   codes=["address"]), text="")
    add(store, rec("gat-hop", "fr", "2024-04-09", "Hôpital de Gatineau", aliases=["Gatineau"], count=3100,
                   codes=["medical"]), text="")
    m = by_source(store)
    assert m["gat-ville"] != m["gat-hop"]


BREACH_A = dict(count=1200, codes=["name", "phone"], incident="2019-02-20")
BREACH_B = dict(count=8000, codes=["sin", "bank_account"], incident="2023-09-30")


def _two_breaches_and_undated():
    org = "Clinique dentaire Rivière-Verte"
    return [
        rec("rv-2019", "fr", "2019-03-01", org, **BREACH_A),
        rec("rv-2023", "en", "2023-10-05", org, aliases=["Riviere-Verte Dental Clinic"], **BREACH_B),
        # undated, and its count and data types are those of the 2019 breach
        rec("rv-undated-a", "en", None, org, count=1200, codes=["name", "phone"]),
        # undated, nothing but the name: it fits both breaches equally
        rec("rv-undated", "fr", None, org),
    ]


def test_an_undated_report_between_two_breaches_joins_the_one_its_evidence_supports(tmp_path):
    results = set()
    for k, order in enumerate(itertools.permutations(_two_breaches_and_undated())):
        if k % 5:  # 24 orders; every fifth is enough to see the order does not matter
            continue
        with Store(tmp_path / f"u{k}.db") as s:
            for r in order:
                add(s, r, text="")
            m = by_source(s)
            assert m["rv-undated-a"] == m["rv-2019"] != m["rv-2023"]
            assert m["rv-undated"] not in (m["rv-2019"], m["rv-2023"])  # fits both: stays alone for review
            results.add(canonical(s))
    assert len(results) == 1


def test_matching_is_testable_without_sqlite():
    from extractor import clustering, matching

    reps = [matching.rep_from_record(i, r.source.id, json.loads(r.to_json()))
            for i, r in enumerate(_two_breaches_and_undated())]
    assert matching.conflict(reps[0], reps[1]) is not None
    groups = sorted(sorted(r.source_id for r in c) for c in clustering.cluster(reps))
    assert groups == [["rv-2019", "rv-undated-a"], ["rv-2023"], ["rv-undated"]]


def test_a_former_incident_id_still_resolves(store, tmp_path, capsys):
    add(store, rec("late", "en", "2024-03-10", "Northern Widget Works", count=90), text="")
    (old,) = by_source(store).values()
    add(store, rec("early", "fr", "2024-03-05", "Northern Widget Works", count=90), text="")
    (new,) = set(by_source(store).values())
    assert new != old == merge.incident_id_for("late") and new == merge.incident_id_for("early")
    inc = merge.get_incident(store.conn, old)
    assert inc["id"] == new and inc["previous_ids"] == [old]
    assert [i["previous_ids"] for i in incidents(store)] == [[old]]
    # a manual merge keeps the absorbed id too
    add(store, rec("other", "en", "2024-06-01", "Southern Gadget Shop", count=5), text="")
    third = by_source(store)["other"]
    with store.transaction() as conn:
        kept = merge.merge_incidents(conn, new, third)
    assert merge.get_incident(store.conn, third)["id"] == kept == merge.get_incident(store.conn, old)["id"]
    from extractor.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["show", old, "--db", str(store.path), "--json"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and json.loads(out)["id"] == kept


def test_a_parent_company_named_as_an_alias_does_not_glue_its_subsidiaries_breaches(store):
    add(store, rec("sub-a", "en", "2022-03-01", "Maple Mobile", aliases=["Northwind Telecom"], codes=["phone"]), text="")
    add(store, rec("sub-b", "fr", "2022-09-14", "Santé Bouleau", aliases=["Northwind Telecom"], codes=["medical"]),
        text="")
    add(store, rec("parent", "en", "2023-01-20", "Northwind Telecom", codes=["credentials"]), text="")
    assert len(set(by_source(store).values())) == 3


def test_an_undated_report_without_a_shared_key_is_found_by_its_evidence_in_every_order(tmp_path):
    """The keyless candidates of an undated report are read whatever their date (and it is read by theirs)."""
    same = dict(count=5000, codes=["medical", "name", "phone"], agencies=["RCMP", "OPC"])
    reports = [rec("verano", "fr", "2020-09-30", "Groupe Santé Verano", **same),
               rec("parent-undated", "en", None, "Northwind Telecom", **same),  # named for the parent company
               rec("parent-2023", "en", "2023-05-15", "Northwind Telecom", codes=["credentials"])]
    results = set()
    for k, order in enumerate(itertools.permutations(reports)):
        with Store(tmp_path / f"k{k}.db") as s:
            for r in order:
                add(s, r, text="")
            m = by_source(s)
            assert m["parent-undated"] == m["verano"] != m["parent-2023"]
            results.add(canonical(s))
    assert len(results) == 1


def _component_sources(store, sid):
    from extractor.incident_component import component

    rid = store.conn.execute("SELECT id FROM reports WHERE source_id=?", (sid,)).fetchone()[0]
    return sorted(r.source_id for r in component(store.conn, {rid}, None).values())


def test_an_organizations_history_beyond_the_window_stays_out_of_the_component(store):
    org = "Clinique vétérinaire Beauport inc."
    add(store, rec("old-1", "fr", "2018-03-10", org, count=800))      # two breaches years ago
    add(store, rec("old-2", "fr", "2021-12-01", org, count=90))
    add(store, rec("new-1", "fr", "2024-05-02", org, count=3000))    # a new one, beyond window_days of both
    assert _component_sources(store, "new-1") == ["new-1"]
    # within two windows, the history is read (an incident that may contest the join is in it)
    add(store, rec("mid-1", "fr", "2023-01-20", org, count=5))
    assert _component_sources(store, "new-1") == ["mid-1", "new-1", "old-2"]
    # a follow-up (a regulator's decision) may be about any past breach: every incident of the name is read
    add(store, rec("ruling", "fr", "2024-09-01", org, kind="regulator"))
    assert _component_sources(store, "ruling") == ["mid-1", "new-1", "old-1", "old-2", "ruling"]
    # an incident with an undated report is always within reach
    add(store, rec("undated", "fr", None, org, count=800))
    assert "undated" in _component_sources(store, "new-1")
    assert len(incidents(store)) == len({i for i in by_source(store).values()})


def _reference_clusters(reps):
    """Constrained average linkage as docs/INCIDENTS.md states it, recomputed from the pairs at every step (slow,
    plain): the oracle of clustering.cluster's kept sums."""
    from extractor import clustering, matching

    S = matching.S
    reps = sorted(reps, key=lambda r: r.sort_key)
    n = len(reps)
    dec = {(i, j): clustering._decide(reps[i], reps[j], False) for i in range(n) for j in range(i + 1, n)}
    members = {}
    for i, r in enumerate(reps):
        members.setdefault(next((k for k in range(i) if r.manual_group and reps[k].manual_group == r.manual_group), i),
                           []).append(i)

    def pairs(a, b):
        return [dec[(min(x, y), max(x, y))] for x in members[a] for y in members[b]]

    def linkage(a, b):
        ds = pairs(a, b)
        if any(d[0] for d in ds):
            return -1.0
        if not any(d[1] > 0 for d in ds):
            return 0.0
        return sum(d[1] if d[1] > 0 else S("missing_link_value") for d in ds) / len(ds)

    def evidence_of(a, b):
        vals = [d[2] for d in pairs(a, b) if d[1] > 0]
        return sum(vals) / len(vals) if vals else 0.0

    refused = set()
    while True:
        ids = sorted(members)
        best = None
        for x in ids:
            for y in ids:
                if x < y and (x, y) not in refused:
                    v = linkage(x, y)
                    if v >= S("link_threshold") and (best is None or v > best[0] + 1e-12):
                        best = (v, x, y)
        if best is None:
            break
        _, a, b = best
        contested = any(
            max(d[1] for d in pairs(me, c)) >= S("link_threshold") and linkage(other, c) < 0
            and evidence_of(me, other) - evidence_of(me, c) < S("contest_margin")
            for me, other in ((a, b), (b, a)) for c in ids if c not in (a, b))
        if contested:
            refused.add((a, b))
            continue
        members[a] = sorted(members[a] + members.pop(b))
        refused = {p for p in refused if a not in p and b not in p}
    return sorted(sorted(reps[i].source_id for i in m) for m in members.values())


def test_clustering_from_kept_sums_joins_as_the_plain_recomputation():
    from datetime import date, timedelta

    from extractor import clustering, matching

    orgs = ["Alder Health", "Birch Bank", "Groupe Alder", "Ville de Laval", "Cedar Insurance"]
    codes = ["name", "address", "phone", "email", "sin", "medical"]
    rng = random.Random(11)
    shapes = set()
    for case in range(40):
        n = rng.choice([4, 8, 15, 30])
        reps = []
        for i in range(n):
            org = rng.choice(orgs[:rng.randint(1, len(orgs))])
            published = None if rng.random() < 0.1 else (
                date(2022, 1, 1) + timedelta(days=rng.randint(0, rng.choice([20, 200, 800])))).isoformat()
            d = {"source": {"id": f"c{case}-{i:02d}", "language": rng.choice(["fr", "en"]), "published": published,
                            "kind": rng.choice(["news", "news", "regulator", "press_release"])},
                 "is_incident": True, "organization": {"name": org, "aliases": []},
                 "victims": {"count": rng.choice([None, 1000, 1000, 1200, 5000, 50, 200000])},
                 "data_types": [{"code": c} for c in rng.sample(codes, rng.randint(0, 3))], "agencies": [], "dates": {}}
            if rng.random() < 0.2:
                d["dates"]["incident"] = {"date": (date(2022, 1, 1) + timedelta(days=rng.randint(0, 300))).isoformat()}
            reps.append(matching.rep_from_record(i, d["source"]["id"], d, {"text": ""}))
        if rng.random() < 0.3:
            for r in rng.sample(reps, min(n, 3)):
                r.manual_group = rng.choice(["inc-a", "inc-b"])
        got = sorted(sorted(r.source_id for r in c) for c in clustering.cluster(list(reps)))
        assert got == _reference_clusters(reps), case
        shapes.add((len(got) == 1, len(got) == n))
    assert (False, False) in shapes  # cases with clusters of several reports beside others
