"""language: langdetect's profiles read from our cache give langdetect's own probabilities."""

from __future__ import annotations


def test_langdetect_profiles_cache_gives_langdetect_probabilities(tmp_path, monkeypatch):
    from langdetect import DetectorFactory
    from langdetect import detect_langs as original

    from extractor import language

    monkeypatch.setenv("INCIDENTS_CACHE_DIR", str(tmp_path))
    texts = ["La clinique a confirmé une fuite de données touchant 1 200 patients.",
             "The clinic confirmed a data breach affecting 1,200 patients.", "¿Qué tal? Muy bien, gracias."]
    DetectorFactory.seed = 0
    expected = [[(r.lang, r.prob) for r in original(t)] for t in texts]
    for attempt in ("build", "read", "corrupt"):
        if attempt == "corrupt":
            for f in (tmp_path / "langdetect").glob("*.marshal"):
                f.write_bytes(b"\x00garbage")
        language._factory.cache_clear()
        language._detector_class.cache_clear()
        assert [[(r.lang, r.prob) for r in language.detect_langs(t)] for t in texts] == expected, attempt
        assert list((tmp_path / "langdetect").glob("*.marshal")), attempt
    language._factory.cache_clear()
    language._detector_class.cache_clear()
