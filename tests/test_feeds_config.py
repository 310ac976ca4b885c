"""The feed list: validated on load (unknown key, wrong type, unsupported language name the feed and the key),
``include = ["default"]`` and several ``--feeds`` files merged; the CLI's one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.errors import InputError
from extractor.resources import LANGUAGES
from pipelines.feedlist import DEFAULT_LIST, load_feed_list


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path, **kwargs) -> str:
    with pytest.raises(InputError) as err:
        load_feed_list(path, **kwargs)
    return str(err.value)


def test_a_typo_in_a_key_is_an_error_naming_the_feed_and_the_key(tmp_path):
    path = write(tmp_path, "f.toml", '[[feed]]\nname = "Mine"\nurl = "https://example.org/rss"\nenable = false\n')
    msg = error_of(path)
    assert "'Mine'" in msg and "'enable'" in msg and "did you mean 'enabled'" in msg and str(path) in msg


def test_a_wrong_type_is_an_error(tmp_path):
    path = write(tmp_path, "f.toml", '[[feed]]\nurl = "https://example.org/rss"\nenabled = "no"\n')
    msg = error_of(path)
    assert "feed #1" in msg and "'enabled'" in msg and "boolean" in msg


def test_an_unsupported_language_is_an_error_listing_the_supported_ones(tmp_path):
    path = write(tmp_path, "f.toml", '[[feed]]\nname = "X"\nurl = "https://example.org/rss"\nlanguage = "xx"\n')
    msg = error_of(path)
    assert "'language'" in msg and "'xx'" in msg and all(lang in msg for lang in LANGUAGES)


def test_every_shipped_language_is_accepted_with_a_region(tmp_path):
    body = "".join(f'[[feed]]\nurl = "https://example.org/{lang}"\nlanguage = "{lang}-CA"\n' for lang in LANGUAGES)
    feeds = load_feed_list(write(tmp_path, "f.toml", body))
    assert [f.language for f in feeds] == list(LANGUAGES)


def test_unknown_top_level_key_and_non_http_url(tmp_path):
    assert "'feedz'" in error_of(write(tmp_path, "a.toml", 'feedz = []\n'))
    assert "not http(s)" in error_of(write(tmp_path, "b.toml", '[[feed]]\nurl = "ftp://example.org/x"\n'))


def test_the_shipped_list_is_valid_and_disabled_feeds_are_left_out():
    every = load_feed_list(DEFAULT_LIST, include_disabled=True)
    enabled = load_feed_list(DEFAULT_LIST)
    assert 0 < len(enabled) < len(every)
    assert all(f.enabled for f in enabled)


def test_include_default_extends_the_shipped_list_and_can_disable_one_of_its_feeds(tmp_path):
    shipped = load_feed_list(DEFAULT_LIST)
    first = shipped[0].url
    path = write(tmp_path, "mine.toml", f'include = ["default"]\n\n[[feed]]\nurl = "https://example.org/own.rss"\n'
                                        f'robots = false\n\n[[feed]]\nurl = "{first}"\nenabled = false\n')
    feeds = load_feed_list(path)
    urls = [f.url for f in feeds]
    assert "https://example.org/own.rss" in urls and first not in urls
    assert len(feeds) == len(shipped)  # one added, one disabled
    own = next(f for f in feeds if f.url == "https://example.org/own.rss")
    assert own.robots is False and own.source == str(path)


def test_two_files_merge_in_order_the_later_one_wins(tmp_path):
    a = write(tmp_path, "a.toml", '[[feed]]\nname = "A"\nurl = "https://example.org/1"\n'
                                  '[[feed]]\nurl = "https://example.org/2"\n')
    b = write(tmp_path, "b.toml", '[[feed]]\nname = "B"\nurl = "https://example.org/1"\nlanguage = "en"\n')
    feeds = load_feed_list([a, b])
    assert [(f.url, f.name) for f in feeds] == [("https://example.org/2", None), ("https://example.org/1", "B")]


def test_an_include_loop_is_an_error(tmp_path):
    write(tmp_path, "b.toml", 'include = ["a.toml"]\n')
    a = write(tmp_path, "a.toml", 'include = ["b.toml"]\n')
    assert "includes itself" in error_of(a)


def test_cli_reports_a_typo_in_one_line(tmp_path, capsys):
    from pipelines.cli import main

    bad = write(tmp_path, "f.toml", '[[feed]]\nurl = "https://example.org/rss"\nenable = false\n')
    with pytest.raises(SystemExit) as exit_:
        main(["ingest", "--feeds", str(bad), "--db", str(tmp_path / "x.db")])
    err = capsys.readouterr().err
    assert exit_.value.code == 3 and len(err.strip().splitlines()) == 1 and "'enable'" in err
    assert not (tmp_path / "x.db").exists()
