"""Matching policy as pure functions (extractor/matching.py, extractor/names.py): generic names, a body and the
government it is part of, follow-ups years later, long-tail coverage against a second breach, the era of undated
reports, undated reports matched by their evidence.

Every report is our own short text; no store, no embeddings (the text signal is left out, so the figures here
are those of names, dates, counts, data types and agencies alone).
"""

from __future__ import annotations

from extractor import clustering, matching
from extractor.names import company_relations, generic_keys, lookup_keys, org_keys


def rep(i, published, org, *, aliases=(), acronym=None, kind="news", count=None, codes=(), agencies=(),
        incident=None, text="", title=None):
    rec = {
        "source": {"id": f"r{i}", "published": published, "kind": kind, "title": title},
        "organization": {"name": org, "acronym": acronym, "aliases": list(aliases)} if org else None,
        "victims": {"count": count},
        "data_types": [{"code": c} for c in codes],
        "agencies": [{"code": c} for c in agencies],
        "dates": {"incident": {"date": incident}} if incident else {},
    }
    return matching.rep_from_record(i, f"r{i}", rec, {"text": text, "title": title})


def groups(reps):
    return sorted(sorted(r.source_id for r in c) for c in clustering.cluster(reps))


# -- generic names ------------------------------------------------------------------------------------------
def test_a_generic_name_meets_a_name_that_holds_its_generic_word_never_two_specific_names():
    assert generic_keys("CISSS") == (["g:cisss"], [])
    assert "h:cisss" in generic_keys("CISSS des Laurentides")[1]
    assert "h:cisss" in generic_keys("CISSSLAU")[1]  # an acronym that starts with the generic word
    # h: looks up g: only, so two cities never meet through the word "city"
    assert lookup_keys({"h:city"}) == {"g:city"} and "h:city" in lookup_keys({"g:city"})
    calgary, regina = rep(1, "2024-03-01", "City of Calgary"), rep(2, "2024-03-02", "City of Regina")
    assert matching.key_kind(calgary, regina) is None
    # an alias that is only a generic word is no name of the organization: no g: key
    assert not [k for k in org_keys({"name": "Clinique Sirocco", "aliases": ["Centre"]}).generic if k.startswith("g:")]


def test_the_cisss_and_the_cisss_of_a_region_link_only_on_evidence():
    fr_short = rep(1, None, "CISSS", count=310, codes=["medical", "name"], agencies=["CAI"],
                   text="Le CISSS avise 310 usagers qu'une employée a consulté leurs dossiers sans raison.")
    fr_long = rep(2, None, "Centre intégré de santé et de services sociaux des Laurentides",
                  aliases=["CISSS des Laurentides"], count=310, codes=["medical", "name"], agencies=["CAI"])
    assert matching.key_kind(fr_short, fr_long) == "generic"
    assert matching.link_score(fr_short, fr_long) > 0
    other = rep(3, None, "CISSS de la Gaspésie", codes=["financial_other"])  # nothing in common but the word
    assert matching.key_kind(fr_short, other) == "generic"
    assert matching.link_score(fr_short, other) == 0.0


def test_a_ministry_meets_the_government_it_is_part_of_in_either_language():
    gov = rep(1, "2019-10-01", "Gouvernement du Manitoba", count=52000, codes=["sin", "name"], agencies=["OMBUDSMAN_MB"])
    en = rep(2, "2020-01-20", "Ministry of Families", count=52000, codes=["sin"], agencies=["OMBUDSMAN_MB"])
    fr = rep(3, "2020-01-21", "Ministère de la Famille", count=52000, codes=["sin"], agencies=["OMBUDSMAN_MB"])
    assert "g:government" in en.keys.generic and "g:government" in fr.keys.generic
    assert "h:government" in gov.keys.generic
    for child in (en, fr):
        assert matching.key_kind(child, gov) == "generic"
        assert matching.link_score(child, gov) > 0
    # the same words with no evidence (another count, nothing shared) is no link
    unrelated = rep(4, "2020-01-22", "Ministry of Families", count=90, codes=["financial_other"])
    assert matching.link_score(unrelated, gov) == 0.0


# -- follow-ups: rulings, lawsuits, regulators --------------------------------------------------------------
LOST = dict(count=8000, codes=["name", "address"])


def test_a_ruling_years_later_joins_the_breach_it_is_about():
    breach = rep(1, "2015-06-02", "Clinique dentaire Bellerive", **LOST)
    ruling_fr = rep(2, "2022-11-15", "Clinique dentaire Bellerive", kind="other",
                    text="La Cour supérieure rejette l'action collective contre la Clinique dentaire Bellerive, "
                         "dont un ordinateur portable avait été égaré.")
    ruling_en = rep(3, "2022-11-16", "Clinique dentaire Bellerive",
                    title="Judge approves settlement in Bellerive dental clinic class action",
                    text="The settlement covers patients whose files were on a laptop lost in 2015.")
    for ruling in (ruling_fr, ruling_en):
        assert ruling.follow_up
        assert matching.conflict(breach, ruling) is None
        assert matching.link_score(breach, ruling) > 0
    assert groups([breach, ruling_fr, ruling_en]) == [["r1", "r2", "r3"]]


def test_a_later_report_that_is_no_follow_up_or_names_other_years_stays_out_of_the_window():
    breach = rep(1, "2015-06-02", "Clinique dentaire Bellerive", **LOST)
    news = rep(2, "2022-11-15", "Clinique dentaire Bellerive", text="La clinique annonce un rançongiciel.")
    assert not news.follow_up and matching.conflict(breach, news) == "window"
    other_story = rep(3, "2022-11-15", "Clinique dentaire Bellerive", kind="other",
                      text="La Cour supérieure entend une action collective sur une fuite survenue en 2020.")
    assert other_story.follow_up and matching.conflict(breach, other_story) == "window"


def test_long_tail_coverage_a_year_later_versus_a_second_breach_a_year_later():
    first = rep(1, "2020-02-10", "Ville de Granby", count=1200, codes=["employment_hr", "medical"])
    # the regulator's report on the same breach a year later: no year penalty, the counts agree
    regulator = rep(2, "2021-01-25", "City of Granby", kind="regulator", count=1250, codes=["employment_hr", "medical"],
                    text="The commissioner found that in 2020 the City of Granby emailed the files of 1,250 employees.")
    assert matching.follows(first, regulator)
    assert matching.link_score(first, regulator) > 0
    # a second breach a year later: its own incident date, after the first report
    second = rep(3, "2021-01-25", "Ville de Granby", count=300, incident="2021-01-05", codes=["financial_other"])
    assert matching.conflict(first, second) == "newer_breach"
    # news a year later with nothing in common but the (weak) name: no link either
    later_news = rep(4, "2021-01-25", "Ville de Granby", count=45, codes=["financial_other"])
    assert matching.link_score(first, later_news) == 0.0
    assert groups([first, regulator, second, later_news]) == [["r1", "r2"], ["r3"], ["r4"]]


def test_a_later_report_whose_past_years_are_all_after_the_breach_tells_another_story():
    hacked = rep(1, "2012-05-09", "Université du Lac-Bleu", incident="2009-05-08", codes=["credentials"])
    complaint = rep(2, "2013-04-15", "Université du Lac-Bleu", kind="regulator", count=14,
                    text="Décision sur la plainte du 22 février 2011 : des notes d'étudiants publiées en ligne.")
    assert matching.link_score(hacked, complaint) == 0.0
    about_it = rep(3, "2013-04-15", "Université du Lac-Bleu", kind="regulator",
                   text="Décision sur la plainte déposée après le piratage du 8 mai 2009.")
    assert matching.link_score(hacked, about_it) > 0


# -- undated reports ----------------------------------------------------------------------------------------
def test_two_undated_reports_years_apart_in_their_texts_are_two_breaches():
    old = rep(1, None, "Polar Mobile", text="Photo taken in Halifax on March 3, 2016. Polar Mobile says accounts were opened.")
    new = rep(2, None, "Polar Mobile", text="On October 2, 2025, Polar Mobile detected access to its account system.")
    near = rep(3, None, "Polar Mobile", text="Polar Mobile customers were told in 2024 about the breach.")
    assert matching.era_penalty(old, new) > matching.era_penalty(near, new) == 0.0
    assert matching.link_score(old, new) == 0.0
    assert matching.link_score(near, new) > 0


def test_an_undated_report_named_for_the_parent_joins_the_subsidiarys_breach_its_evidence_supports():
    evidence = dict(count=5000, codes=["medical", "name", "phone"], agencies=["RCMP", "OPC"])
    subsidiary = rep(1, "2020-09-30", "Groupe Santé Verano", **evidence)
    undated = rep(2, None, "Norcom", **evidence)  # the extractor gave the parent company's name
    parent = rep(3, "2023-05-15", "Norcom", codes=["account_metadata"])  # the parent's own breach, years later
    assert matching.key_kind(subsidiary, undated) is None and matching.link_score(subsidiary, undated) > 0
    assert matching.conflict(subsidiary, parent) == "window"
    assert groups([subsidiary, undated, parent]) == [["r1", "r2"], ["r3"]]
    # without that evidence an undated report with no shared key links to nothing
    bare = rep(4, None, "Norcom", codes=["medical"])
    assert matching.link_score(subsidiary, bare) == 0.0


# -- parent companies named in the text -------------------------------------------------------------------------
def test_company_relations_read_the_parent_and_the_subsidiary_in_either_language():
    en = "Harbour Holdings, the parent company of Brimart, said letters went out. Pinecrest is owned by Harbour Holdings."
    assert company_relations(["Brimart", "Harbour Holdings", "Pinecrest"], en) == ({0, 2}, {1})
    fr = "Vireo est une filiale de Norcom. Un porte-parole de Norcom, la société mère de Vireo, a confirmé le vol."
    assert company_relations(["Vireo", "Norcom"], fr) == ({0}, {1})
    # the child first, its parent right after it; a name glued to both (an extraction of two names) is neither
    glued = "A statement from the parent company of Brimart, Harbour Holdings Inc., said the systems were back."
    assert company_relations(["Brimart, Harbour Holdings Inc", "Brimart", "Harbour Holdings Inc"], glued) == ({1}, {2})
    assert company_relations(["Brimart", "Harbour Holdings"], "Brimart and Harbour Holdings were hacked.") == (set(), set())


def test_a_subsidiary_named_with_its_parent_is_the_key_of_both_reports_en():
    letters = rep(1, None, "Brimart and Pineway", aliases=["Brimart", "Pineway", "Harbour Holdings"],
                  incident="2023-03-04",
                  text="Harbour Holdings, the parent company of Brimart, says customers of its pharmacies are "
                       "receiving letters about the March 4, 2023 intrusion.")
    watchdog = rep(2, "2023-03-10", "Brimart, Harbour Holdings Inc", aliases=["Brimart", "Harbour Holdings Inc"],
                   agencies=["OPC"],
                   text="Two privacy commissioners were notified. On Monday the parent company of Brimart, "
                        "Harbour Holdings Inc., said its pharmacies could not fill prescriptions.")
    assert "n:brimart" in letters.primary and "n:brimart" in watchdog.primary
    assert "n:harbour holdings" in letters.keys.parents
    assert matching.key_kind(letters, watchdog) == "primary" and matching.link_score(letters, watchdog) > 0
    # the same records without their texts share aliases only, and the evidence is too thin for that
    bare = [rep(i, p, n, aliases=a, incident=inc) for i, p, n, a, inc in (
        (3, None, letters.rec["organization"]["name"], letters.rec["organization"]["aliases"], "2023-03-04"),
        (4, "2023-03-10", watchdog.rec["organization"]["name"], watchdog.rec["organization"]["aliases"], None))]
    assert matching.key_kind(*bare) == "alias" and matching.link_score(*bare) == 0.0


def test_a_parent_companys_name_alone_does_not_glue_two_breaches_fr():
    vireo = rep(1, None, "Vireo", aliases=["Norcom"], codes=["account_metadata", "phone"], agencies=["OPC"],
                text="Vireo est une filiale de Norcom. Un porte-parole de Norcom, la société mère de Vireo, confirme "
                     "le vol des numéros de compte de ses abonnés.")
    clinic = rep(2, None, "Norcom", codes=["medical", "address", "phone"], agencies=["OPC", "RCMP"],
                 text="L'une des filiales du groupe Norcom, la clinique Santéo, a payé une rançon après le vol de "
                      "dossiers médicaux de ses patients.")
    norcom = rep(3, "2023-05-15", "Norcom", codes=["credentials"],
                 text="Norcom confirme que des identifiants volés ont permis de consulter des comptes de clients.")
    assert "n:norcom" in vireo.keys.parents and "n:norcom" in clinic.keys.parents
    for a, b in ((vireo, clinic), (vireo, norcom), (clinic, norcom)):
        assert matching.key_kind(a, b) == "parent"
        assert matching.link_score(a, b) == 0.0
    # without the texts, one report's name is the other's alias: the name alone used to link them
    assert matching.key_kind(rep(4, None, "Vireo", aliases=["Norcom"]), rep(5, None, "Norcom")) == "name_alias"
    # a parent's name is not the breached organization's: no penalty against the subsidiary's own report
    santeo = rep(6, "2020-09-30", "Clinique Santéo inc", codes=["medical", "address", "phone"], agencies=["OPC", "RCMP"])
    assert matching.key_kind(clinic, santeo) is None
    no_penalty = matching.S("link_threshold") + matching.evidence(clinic, santeo) - matching.S("undated_keyless_threshold")
    assert abs(matching.link_score(clinic, santeo) - no_penalty) < 1e-9
    assert groups([vireo, clinic, norcom, santeo]) == [["r1"], ["r2", "r6"], ["r3"]]


# -- two organizations of one incident, each text naming the other --------------------------------------------
def test_two_organizations_each_named_in_the_others_report_link_on_evidence_en():
    authority = rep(1, "2021-01-08", "Prairie Health Authority", codes=["medical"], agencies=["REGULATOR_OTHER"],
                    text="The commissioner says Northgate eHealth is responsible for the health records taken in the "
                         "ransomware attack.")
    agency = rep(2, "2021-01-08", "Northgate eHealth", codes=["medical"], agencies=["REGULATOR_OTHER"],
                 text="Northgate eHealth, the Prairie Health Authority and the ministry were the victims of a "
                      "ransomware attack on shared file servers.")
    assert matching.mentions(authority, agency) and matching.mentions(agency, authority)
    assert matching.key_kind(authority, agency) == "mention"
    assert matching.link_score(authority, agency) > 0
    # one way only (the agency's own report names no one else): no key
    alone = rep(3, "2021-01-09", "Northgate eHealth", codes=["medical"], text="Ransomware hits the e-health agency.")
    assert matching.key_kind(authority, alone) is None and matching.link_score(authority, alone) == 0.0
    # both named, but the evidence disagrees (another year, other data): no link
    older = rep(4, "2019-06-01", "Northgate eHealth", codes=["financial_other"],
                text="Northgate eHealth and the Prairie Health Authority sign a new contract.")
    assert matching.key_kind(authority, older) == "mention" and matching.link_score(authority, older) == 0.0


def test_a_school_board_and_its_supplier_each_named_in_the_others_report_fr():
    board = rep(1, "2024-03-05", "Centre de services scolaire des Trois-Lacs", codes=["name", "date_of_birth"],
                agencies=["CAI"], text="Le Centre de services scolaire des Trois-Lacs confirme que son fournisseur "
                                       "Logiciels Arpège a subi un rançongiciel.")
    supplier = rep(2, "2024-03-06", "Logiciels Arpège", codes=["name", "date_of_birth"], agencies=["CAI"],
                   text="Logiciels Arpège avise ses clients, dont le Centre de services scolaire des Trois-Lacs, "
                        "d'une intrusion dans ses serveurs.")
    assert matching.key_kind(board, supplier) == "mention"
    assert groups([board, supplier]) == [["r1", "r2"]]
    # a name too short to be looked for in a text (mention_min_chars) is never a mention
    short = rep(3, "2024-03-06", "Arp", codes=["name", "date_of_birth"], agencies=["CAI"],
                text="Arp avise le Centre de services scolaire des Trois-Lacs.")
    assert short.names == () and matching.key_kind(board, short) is None


# -- data types: fewer is no disagreement ------------------------------------------------------------------------
def test_a_report_naming_fewer_of_the_same_data_types_does_not_disagree():
    many = ["medical", "sin", "address", "date_of_birth", "employment_hr", "health_insurance_number"]
    for name in ("City of Lakeport", "Ville de Lacroix"):
        lawsuit = rep(1, "2017-10-04", name, codes=many)
        regulator = rep(2, "2017-10-04", name, kind="regulator", codes=["medical"])    # a subset: no penalty
        nothing = rep(3, "2017-10-04", name, kind="regulator")                          # no data types: nothing
        other = rep(4, "2017-10-04", name, kind="regulator", codes=["medical", "payment_card"])  # one code more
        assert matching.evidence(lawsuit, regulator) == matching.evidence(lawsuit, nothing)
        assert matching.evidence(lawsuit, other) < matching.evidence(lawsuit, regulator)
        same = rep(5, "2017-10-04", name, kind="regulator", codes=many)
        assert matching.evidence(lawsuit, same) > matching.evidence(lawsuit, regulator)


# -- link groups ----------------------------------------------------------------------------------------------
def test_link_groups_join_linked_reports_and_manual_groups_only():
    assert clustering._link_groups(5, [(0, 2), (3, 4)], [None, None, None, None, None]) == [[0, 2], [1], [3, 4]]
    assert clustering._link_groups(5, [(0, 2), (3, 4)], [None, "m", None, None, "m"]) == [[0, 2], [1, 3, 4]]


def test_clustering_by_link_groups_is_clustering_the_whole_set():
    # a contested report (the Norcom case) next to an unrelated organization's two reports of one breach
    evidence = dict(count=5000, codes=["medical", "name", "phone"], agencies=["RCMP", "OPC"])
    a = [rep(1, "2020-09-30", "Groupe Santé Verano", **evidence), rep(2, None, "Norcom", **evidence),
         rep(3, "2023-05-15", "Norcom", codes=["account_metadata"])]
    b = [rep(4, "2021-02-01", "Harbor Dental Clinic", count=800, codes=["name", "medical"]),
         rep(5, "2021-02-03", "Harbor Dental Clinic", count=800, codes=["name", "medical"])]
    assert groups(b) == [["r4", "r5"]]
    assert groups(a + b) == sorted(groups(a) + groups(b))
