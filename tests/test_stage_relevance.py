"""Golden cases of the `relevance` stage, French and English (tests/golden/{fr,en}/relevance.jsonl),
through the public API: `Extractor().extract(doc)` and the record it returns."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from _golden import stage_tests  # noqa: E402

test_both_languages_have_cases, test_golden = stage_tests("relevance")


import pytest  # noqa: E402

from extractor.cue_index import screen_text  # noqa: E402
from extractor.components.relevance import RelevanceComponent  # noqa: E402

# our own sentences, and the cue words run together, so that matches touch, overlap and nest
_TEXTS = {
    "fr": ["Vous avez reçu un avis : une fuite de données a touché vos renseignements personnels, 12 % des clients.",
           "Selon la Commission, cette cyberattaque est l'une des pires fuites; des incidents de confidentialité "
           "ont été signalés pour cent organismes. Votre banque ne vous appellera jamais.",
           "Aucune donnée personnelle n'a été volée lors de l'attaque par rançongiciel de la semaine dernière."],
    "en": ["You may have received a notice: a data breach exposed your personal information, 40% of customers.",
           "According to the commissioner, this cyberattack was one of the largest breaches; privacy breaches "
           "rose 12 per cent. Your bank will never call you.",
           "No personal information was taken in the ransomware attack, which the company disclosed on Monday."],
}


@pytest.mark.parametrize("lang", sorted(_TEXTS))
def test_finders_give_the_regex_matches(lang):
    """Each cue's Finder (an AlternationIndex, or a literal screen before the regex) gives exactly the
    matches of a scan of its whole regex: the same spans and texts, in order."""
    comp = RelevanceComponent(lang)
    finders = {**comp.find, **comp.family_find}
    assert any(f.index is not None for f in finders.values())
    for name, finder in finders.items():
        words = " ".join(a.replace("(?:", "").replace(")", "").replace("?", "").replace("\\", "")
                         for a in (finder.index.alts if finder.index is not None else ()))
        for text in _TEXTS[lang] + [words, words.upper(), " ".join(_TEXTS[lang])]:
            want = [(m.span(), m.group(0)) for m in finder.rx.finditer(text)]
            got = [(m.span(), m.group(0)) for m in finder.matches(text, screen_text(text))]
            assert got == want, (name, text[:60])


def test_a_text_without_the_literals_matches_nothing():
    comp = RelevanceComponent("en")
    finder = comp.find["percent"]
    assert finder.index is None and finder.cores  # not an alternation: screened by its literals
    assert finder.matches("nothing here", "nothing here") == []
    assert [m.group(0) for m in finder.matches("up 40% this year", "up 40% this year")] == ["40%"]


@pytest.mark.parametrize("lang,text,expected", [
    ("fr", "Une clé USB perdue contenait les dossiers médicaux de patients. Une autre clé USB a été perdue. " * 4, True),
    ("en", "A laptop was stolen with patient records on it; another laptop was stolen from a car. " * 4, True),
    ("en", "The bakery sold bread on Monday.", False),
])
def test_mishaps_count_as_the_prefilter(lang, text, expected):
    """The component's mishap count is the prefilter's (prefilter.mishaps), limit included."""
    from extractor.prefilter import mishaps

    comp = RelevanceComponent(lang)
    for limit in (1, 2, 6):
        got = comp._mishaps(text, screen_text(text), limit=limit)
        assert got == mishaps(text, (lang,), limit=limit)
        assert (got > 0) == expected
