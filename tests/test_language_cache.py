"""language: langdetect's profiles read from our cache give langdetect's own probabilities."""

from __future__ import annotations


def test_langdetect_profiles_cache_gives_langdetect_probabilities(tmp_path, monkeypatch):
    from langdetect import DetectorFactory
    from langdetect import detect_langs as original

    from extractor import language, nlp

    monkeypatch.setenv("INCIDENTS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(nlp, "install_cache_dir", lambda: None)  # the user's cache alone
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


def test_langdetect_profiles_come_from_the_installation_cache_when_the_user_has_none(tmp_path, monkeypatch):
    from langdetect import detector_factory

    from extractor import language, nlp

    installed = tmp_path / "installed" / "regex"
    monkeypatch.setattr(nlp, "install_cache_dir", lambda: installed)
    monkeypatch.setenv("INCIDENTS_CACHE_DIR", str(tmp_path / "user"))
    built = language._build_profiles(detector_factory.PROFILES_DIRECTORY)
    path = language._profile_cache_path(detector_factory.PROFILES_DIRECTORY, installed)
    assert path.parent == tmp_path / "installed" / "langdetect"
    path.parent.mkdir(parents=True)
    import marshal

    path.write_bytes(marshal.dumps(built))
    language._factory.cache_clear()
    language._detector_class.cache_clear()
    try:
        assert language.detect_langs("The clinic confirmed a data breach affecting 1,200 patients.")[0].lang == "en"
        assert not (tmp_path / "user").exists()  # read from the installation's file: nothing built or written
    finally:
        language._factory.cache_clear()
        language._detector_class.cache_clear()
