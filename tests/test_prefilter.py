"""The prefilter (extractor/prefilter.py): cheap, but it must never drop a real incident.

- every gold incident of ../shared/corpus/train.jsonl and dev.jsonl passes (the test fails, not
  skips, when those files are missing: the recall of the prefilter is measured there);
- incidents that are not attacks (loss, theft, disposal, misdirection, snooping) pass in both
  languages, in long articles too, without any cyberattack vocabulary (our own sentences);
- ordinary news rejected: the benchmark's generated mix, and long articles of our own whose only
  breach-like words are a lost game, a stolen car or a missing hiker.
"""

import json
import sys
from pathlib import Path

import pytest

from extractor.prefilter import SHORT_TEXT, mishaps, passes

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT / "eval"))
import benchgen  # noqa: E402

# neutral filler (our own), so that a case is a long article and not a short brief
FILLER = {
    "fr": "Le conseil municipal se réunira de nouveau le mois prochain pour étudier le budget de la bibliothèque. ",
    "en": "City council will meet again next month to study the library budget and the new bus schedule. ",
}


def long_text(lang: str, *sentences: str) -> str:
    text = FILLER[lang] * 8 + " ".join(sentences) + " " + FILLER[lang] * 8
    assert len(text) > SHORT_TEXT
    return text


@pytest.mark.parametrize("name", ["train.jsonl", "dev.jsonl"])
def test_every_gold_incident_passes(name):
    path = CORPUS / name
    assert path.exists(), f"{path} is missing: the prefilter's recall is measured on it"
    docs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    incidents = [d for d in docs if d["gold"]["is_incident"]]
    assert incidents
    dropped = [d["id"] for d in incidents if not passes(d["text"])]
    assert dropped == [], f"the prefilter drops gold incidents of {name}: {dropped}"


MISHAPS = [
    ("fr", "Un employé a égaré une clé USB contenant les dossiers de 2 000 patients de la clinique."),
    ("fr", "Un ordinateur portable renfermant des renseignements personnels d'employés a été volé lors d'un cambriolage."),
    ("fr", "Des fiches médicales de patients ont été retrouvées dans une poubelle derrière l'hôpital."),
    ("fr", "Une boîte de dossiers destinés au déchiquetage a été laissée sans surveillance dans un couloir."),
    ("fr", "Des relevés bancaires de clients ont été trouvés sur le trottoir près d'une usine de recyclage."),
    ("fr", "Une infirmière a consulté sans justification les dossiers médicaux de 300 usagers, par curiosité."),
    ("fr", "Des lettres contenant des numéros d'assurance sociale ont été envoyées aux mauvais destinataires."),
    ("fr", "La société s'est fait subtiliser des bandes de sauvegarde contenant des données de clients."),
    ("en", "An employee misplaced a USB key holding the records of 2,000 patients of the clinic."),
    ("en", "A laptop containing employees' personal information was stolen in a break-in at the office."),
    ("en", "Patient records were found in a dumpster behind the hospital."),
    ("en", "A box of files awaiting shredding was left unattended in a hallway, with patient files inside."),
    ("en", "Bank statements of customers were found on a sidewalk near a recycling plant."),
    ("en", "A nurse snooped in the medical records of 300 patients without a legitimate reason."),
    ("en", "Letters listing social insurance numbers were mailed to the wrong addresses."),
    ("en", "Backup tapes holding customer data went missing from the data centre."),
]


@pytest.mark.parametrize("lang,sentence", MISHAPS)
def test_incidents_that_are_not_attacks_pass(lang, sentence):
    assert passes(sentence, lang)
    assert passes(long_text(lang, sentence), lang)
    assert mishaps(sentence, (lang,)) >= 1


NEAR_MISSES = [
    ("fr", "L'équipe a perdu son troisième match de suite, et le gardien a été laissé seul devant le filet."),
    ("fr", "Une voiture volée a été retrouvée dans la rue, abandonnée près du parc."),
    ("fr", "Le randonneur disparu depuis dimanche a été retrouvé sain et sauf par les secouristes."),
    ("fr", "Selon les données de l'institut, l'industrie a perdu 3 000 emplois ce trimestre."),
    ("en", "The team lost its third game in a row and the goalie was left alone in front of the net."),
    ("en", "A stolen car was found abandoned on a side street near the park."),
    ("en", "The hiker who went missing on Sunday was found safe by rescuers."),
    ("en", "According to data from the agency, the industry lost 3,000 jobs this quarter."),
]


@pytest.mark.parametrize("lang,sentence", NEAR_MISSES)
def test_ordinary_news_with_mishap_words_is_rejected(lang, sentence):
    assert not passes(long_text(lang, sentence), lang)
    assert mishaps(sentence, (lang,)) == 0


def test_bench_mix_ordinary_news_is_rejected():
    docs = benchgen.generate(400, seed=7)
    ordinary = [d for d in docs if not d["bench_breach"]]
    breach = [d for d in docs if d["bench_breach"]]
    assert all(passes(d["text"]) for d in breach)
    assert sum(passes(d["text"]) for d in ordinary) <= 0.05 * len(ordinary)


# -- the literal screen: never a rejection that the regexes would not make ------------------------------

def test_literal_core_is_what_every_match_contains():
    from extractor.cue_index import literal_core

    assert literal_core("fuites? de (?:données|renseignements)") == {"données", "renseignements"}  # longer than "fuite"
    assert literal_core("fuites? de") == {"fuite"}
    assert literal_core("(?:lettres?|enveloppes?) (?:contenant|renfermant)") == {"contenant", "renfermant"}
    assert literal_core("Cyberattaques?") == {"cyberattaque"}  # lowercased: the screen searches a lowercased text
    assert literal_core(r"\w+") == {""}  # no literal: the family always runs its regex


def test_a_family_without_literals_always_runs_its_regex():
    from extractor.cue_index import Screen, screen_text

    assert not Screen(["fuites? de", "piratages?"]).may_match(screen_text("Le match de hockey"))
    assert Screen(["fuites? de", "piratages?"]).may_match(screen_text("Un PIRATAGE massif"))
    assert Screen([r"\d+ dossiers", "x"]).always


def test_screen_folds_what_ignorecase_matches():
    from extractor.cue_index import screen_text

    # U+0130 and U+212A match i and k under re.IGNORECASE but do not lower() to them
    assert screen_text("CYBERATTAQUE \u0130 \u212a") == "cyberattaque i k"


def _texts():
    texts = [d["text"] for d in benchgen.generate(600, seed=13)]
    for name in ("train.jsonl", "dev.jsonl"):
        for line in (CORPUS / name).read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["text"]
            texts += [text] + [s for s in text.split(". ") if s]
    return texts


def _regex_only_passes(text):
    """passes() as it was before the literal screen: the regexes alone."""
    from extractor.prefilter import _mishap_regexes, _strong, _vocabulary
    from extractor.resources import LANGUAGES

    if _strong().search(text) is not None:
        return True
    found = _vocabulary().finditer(text)
    first = next(found, None)
    if first is not None and (len(text) < SHORT_TEXT or next(found, None) is not None):
        return True
    mishap, records = _mishap_regexes(LANGUAGES)[:2]
    ends = [(m.start(), m.end()) for m in records.finditer(text)]
    return any(s - 250 <= m.end() and m.start() <= e + 250 for m in mishap.finditer(text) for s, e in ends)


def test_screen_changes_no_answer():
    texts = _texts()
    got = [passes(t) for t in texts]
    assert got == [_regex_only_passes(t) for t in texts]
    assert 0 < sum(got) < len(got)


# -- language detection: langdetect's answer, faster -------------------------------------------------------

def test_fast_language_detection_gives_langdetect_probabilities():
    from langdetect import DetectorFactory
    from langdetect import detect_langs as original
    from langdetect.lang_detect_exception import LangDetectException

    from extractor.language import SAMPLE_CHARS, detect_langs

    DetectorFactory.seed = 0
    texts = _texts()[::3] + ["ÉCOLE  SAINT-JEAN  PIRATÉE par des HACKERS", "Привет мир, hello", "東京で データ",
                             "https://x.example/z écrire à a@b.example  ok", "¿Qué tal? Muy bien.", "123 456", " "]

    def run(fn, text):
        try:
            return [(r.lang, r.prob) for r in fn(text[:SAMPLE_CHARS])]
        except LangDetectException as err:
            return str(err)

    for text in texts:
        assert run(detect_langs, text) == run(original, text), text[:80]


# -- golden cases of our own (tests/golden/<lang>/prefilter.jsonl) ----------------------------------------

sys.path.insert(0, str(ROOT / "tests" / "golden"))
from _golden import LANGS, load  # noqa: E402

GOLDEN = [(lang, case) for lang in LANGS for case in load(lang, "prefilter")]


def test_both_languages_have_prefilter_cases():
    assert {lang for lang, _ in GOLDEN} == set(LANGS)
    for lang in LANGS:
        got = [c["expected"]["passes"] for l, c in GOLDEN if l == lang]
        assert True in got and False in got


@pytest.mark.parametrize("lang,case", GOLDEN, ids=[c["_where"] + ":" + c["why"][:40] for _, c in GOLDEN])
def test_golden_prefilter(lang, case):
    """A mishap sentence passes alone and inside a long article (a mishap word beside what holds personal
    records); ordinary news with the same loss, theft or trash words is rejected in a long article."""
    text, want = case["text"], case["expected"]["passes"]
    assert passes(long_text(lang, text), lang) is want
    assert (mishaps(text, (lang,)) >= 1) is want
    if want:
        assert passes(text, lang)
