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
