"""settings: one documented file of defaults; $INCIDENTS_SETTINGS overrides key by key, typos are errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from extractor import settings


def _in_child(tmp_path, body: str, code: str):
    path = tmp_path / "override.toml"
    path.write_text(body, encoding="utf-8")
    env = {"INCIDENTS_SETTINGS": str(path), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)


def test_defaults_have_every_section_the_stages_read():
    every = settings.all_settings()
    for section in ("fetch", "feeds", "merge"):
        assert section in every and every[section]
    assert settings.get("fetch", "max_redirects") == 5
    from extractor.fetch import FetchSettings

    assert FetchSettings().total_timeout == settings.get("fetch", "total_timeout_s")


def test_an_override_replaces_one_key(tmp_path):
    res = _in_child(tmp_path, "[fetch]\nmax_redirects = 2\n",
                    "from extractor import settings; from extractor.fetch import FetchSettings;"
                    "print(settings.get('fetch', 'max_redirects'), FetchSettings().max_redirects,"
                    " settings.get('fetch', 'connect_timeout_s'))")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["2", "2", "10.0"]


@pytest.mark.parametrize("body, message", [
    ("[fetch]\nmax_redirect = 2\n", "unknown key 'max_redirect' in [fetch]"),
    ("[fecth]\nmax_redirects = 2\n", "unknown section [fecth]"),
    ("[fetch]\nmax_redirects = \"two\"\n", "[fetch] max_redirects must be a int"),
    ("[fetch\n", "not valid TOML"),
])
def test_a_bad_override_is_one_clear_error(tmp_path, body, message):
    res = _in_child(tmp_path, body, "from extractor import settings; settings.all_settings()")
    assert res.returncode != 0 and message in res.stderr
