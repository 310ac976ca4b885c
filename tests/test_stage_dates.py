"""Golden cases of the `dates` stage, French and English (tests/golden/{fr,en}/dates.jsonl),
through the public API: `Extractor().extract(doc)` and the record it returns."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from _golden import stage_tests  # noqa: E402

test_both_languages_have_cases, test_golden = stage_tests("dates")


def _days(lang: str, text: str, published: str, range_days: bool = False) -> list[str]:
    """The days of the date phrases that are candidates of any slot (or only those that end a stated range)."""
    from datetime import date

    from extractor.components.date_phrases import find_phrases, rules_for

    meta = {"published": date.fromisoformat(published)}
    return [p.value.isoformat() for p, _ in find_phrases(text, rules_for(lang), meta, [(0, len(text))])
            if p.range_day == range_days]


def test_a_page_header_date_is_no_candidate():
    # an archive's header line names the publication; the same day later in the body is a candidate
    en = " date 2024-03-12 Northfield Clinic fires two clerks for snooping\nThe clerks looked up the charts on March 4, 2024."
    fr = "Publié le 12 mars 2024\nLes commis ont consulté les dossiers le 4 mars 2024."
    assert _days("en", en, "2024-03-12") == ["2024-03-04"]
    assert _days("fr", fr, "2024-03-12") == ["2024-03-04"]
    assert _days("en", "The clerks looked up the charts on March 12, 2024.", "2024-03-12") == ["2024-03-12"]


def test_a_day_that_ends_a_stated_range_is_marked():
    # the incident spans the range: the day that ends it is marked, and no incident day (the golden files)
    en = "They were in the network between March 3 and March 9, 2024, and launched the ransomware on March 9, 2024."
    fr = "Ils ont circulé dans le réseau du 3 au 9 mars 2024 et ont lancé le rançongiciel le 9 mars 2024."
    assert _days("en", en, "2024-04-01") == [] and _days("en", en, "2024-04-01", range_days=True) == ["2024-03-09"]
    assert _days("fr", fr, "2024-04-01") == [] and _days("fr", fr, "2024-04-01", range_days=True) == ["2024-03-09"]


def test_anchored_phrase_search_finds_what_the_whole_text_scan_finds():
    # _phrases searches only near digits and weekday/relative words: the same matches, groups and order as
    # phrase_re.finditer on texts dense and sparse in anchors, with case variants and IGNORECASE's extra letters
    import random

    from extractor.components.date_phrases import _phrases, rules_for

    words = {"en": ["June", "jUNE", "Sept.", "14", "14th", "the", "of", "Monday,", "last", "this past", "yesterday",
                    "earlier today", "2024", "2024-06-14", "and", "between", "-", "\u00a0", "\u017funday", "\u0130",
                    "a-14", "14:30", "breach " * 15, "\n"],
             "fr": ["juin", "JUIN", "juil.", "14", "1er", "premier", "lundi,", "dernier", "hier", "avant-hier",
                    "aujourd’hui", "ce matin", "2024", "2024-06-14", "et", "entre", "du", "au", "\u202f", "août",
                    "\u0130", "14h", "fuite " * 15, "\n"]}
    rng = random.Random(11)
    for lang, pieces in words.items():
        r = rules_for(lang)
        for _ in range(3000):
            text = "".join(rng.choice(pieces) + rng.choice(["", " ", ", "]) for _ in range(rng.randint(1, 40)))
            whole = [(m.span(), m.groupdict()) for m in r.phrase_re.finditer(text)]
            assert [(m.span(), m.groupdict()) for m in _phrases(r, text)] == whole, text
        assert len(_phrases(r, "14 juin 2024 June 14, 2024 " * 50)) == len(list(r.phrase_re.finditer("14 juin 2024 June 14, 2024 " * 50)))
