"""The feed list and item URLs: ``[[feed]]`` tables read from TOML and validated, canonical URLs without tracking parameters."""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence, Union
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from extractor.errors import InputError


# Query parameters that only track the reader: removed from canonical URLs.
TRACKING_PARAMS = {
    "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "ttclid", "igshid", "mc_cid", "mc_eid",
    "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "wickedid", "rb_clickid",
    "s_cid", "cmp", "cmpid", "ncid", "sr_share", "ito", "xtor", "at_medium", "at_campaign", "at_source",
    "at_creation", "at_variant", "at_format", "at_link", "spref", "ref_src", "ref_url", "__twitter_impression",
}
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "at_")


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, default port and fragment dropped, tracking parameters removed."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    if parts.username or parts.password:  # never keep credentials in a stored URL
        pass
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


# The keys a ``[[feed]]`` table may have, with their type; anything else is an error (``enable = false`` is a typo).
FEED_KEYS: dict[str, type] = {
    "url": str,          # required: http(s)
    "name": str,
    "language": str,     # a hint for the pages: one of the language folders of extractor/resources
    "enabled": bool,     # false: listed, not polled
    "robots": bool,      # false: robots.txt is not read for this feed's pages (a user's own site)
    "section": str,      # for people only
    "confidence": str,   # for people only
}
# The top-level keys of a feed list file.
TOP_KEYS: dict[str, type] = {"feed": list, "include": list}
# ``include = ["default"]`` names the shipped list; any other entry is a path, relative to the including file.
DEFAULT_LIST = Path(__file__).resolve().parent / "feeds.toml"
_MAX_INCLUDE_DEPTH = 8


@dataclass
class FeedConfig:
    url: str
    name: Optional[str] = None
    language: Optional[str] = None
    robots: bool = True
    enabled: bool = True
    source: Optional[str] = None  # the file that gave the feed (the last one, when several list it)


def load_feed_list(paths: Union[Path, str, Sequence[Union[Path, str]]], substitute: Optional[dict[str, str]] = None,
                   *, include_disabled: bool = False) -> list[FeedConfig]:
    """The effective feed list of one or more TOML files, validated. Raises InputError naming the feed and key.

    Files are read in order, each after the lists it includes (``include = ["default"]``); a feed listed again
    (same url) takes the later file's keys, so a user's file can disable or rename a shipped feed. Disabled
    feeds are left out unless ``include_disabled``.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    merged: dict[str, FeedConfig] = {}
    for path in paths:
        _read_list(Path(path), merged, substitute or {}, chain=())
    if not merged:
        shown = ", ".join(str(p) for p in paths)
        raise InputError(f"feed list {shown} has no [[feed]] tables (each with url = \"https://...\")")
    return [f for f in merged.values() if include_disabled or f.enabled]


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"feed list {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"feed list {path} is a directory") from None
    except UnicodeDecodeError:
        raise InputError(f"feed list {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"feed list {path} is not valid TOML: {err}") from None
    except OSError as err:
        raise InputError(f"cannot read feed list {path}: {err.strerror}") from None


def _read_list(path: Path, merged: dict[str, FeedConfig], substitute: dict[str, str], chain: tuple) -> None:
    resolved = path.resolve()
    if resolved in chain:
        raise InputError(f"feed list {path} includes itself (through {' -> '.join(str(p) for p in chain)})")
    if len(chain) >= _MAX_INCLUDE_DEPTH:
        raise InputError(f"feed list {path}: includes nested more than {_MAX_INCLUDE_DEPTH} deep")
    data = _read_toml(path)
    for key, value in data.items():
        if key not in TOP_KEYS:
            hint = " (feeds are [[feed]] tables)" if key == "feeds" else ""
            raise InputError(f"feed list {path}: unknown top-level key {key!r}{hint}; known: {', '.join(TOP_KEYS)}")
        if not isinstance(value, list):
            raise InputError(f"feed list {path}: {key!r} must be a list")
    for entry in data.get("include", []):
        if not isinstance(entry, str) or not entry.strip():
            raise InputError(f"feed list {path}: include entries must be \"default\" or a file path, not {entry!r}")
        target = DEFAULT_LIST if entry.strip() == "default" else (path.parent / entry.strip())
        _read_list(target, merged, substitute, chain + (resolved,))
    for i, entry in enumerate(data.get("feed", []), 1):
        cfg = _feed(path, i, entry, substitute)
        merged.pop(cfg.url, None)  # a feed listed again moves to its latest place, with its latest keys
        merged[cfg.url] = cfg


def _feed(path: Path, i: int, entry: Any, substitute: dict[str, str]) -> FeedConfig:
    from extractor.resources import LANGUAGES

    if not isinstance(entry, dict):
        raise InputError(f"feed list {path}: feed #{i} is not a table (write [[feed]] then key = value lines)")
    label = f"feed #{i}" + (f" ({entry['name']!r})" if isinstance(entry.get("name"), str) else "")
    for key, value in entry.items():
        want = FEED_KEYS.get(key)
        if want is None:
            close = difflib.get_close_matches(key, FEED_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known keys: {', '.join(FEED_KEYS)}"
            raise InputError(f"feed list {path}: {label}: unknown key {key!r}{hint}")
        if not isinstance(value, want):
            raise InputError(f"feed list {path}: {label}: key {key!r} must be a "
                             f"{'boolean (true or false)' if want is bool else 'string'}, not {value!r}")
    url = (entry.get("url") or "").strip()
    if not url:
        raise InputError(f"feed list {path}: {label} has no url")
    for key, value in substitute.items():
        url = url.replace(key, value)
    if urlsplit(url).scheme not in ("http", "https"):
        raise InputError(f"feed list {path}: {label}: key 'url' {url!r} is not http(s)")
    lang = None
    if entry.get("language") is not None:
        lang = _lang(entry["language"])
        if lang not in LANGUAGES:
            raise InputError(f"feed list {path}: {label}: key 'language' {entry['language']!r} is not supported "
                             f"(supported: {', '.join(LANGUAGES)})")
    return FeedConfig(url=url, name=entry.get("name"), language=lang, robots=entry.get("robots", True),
                      enabled=entry.get("enabled", True), source=str(path))


def _lang(value: Any) -> Optional[str]:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower().replace("_", "-").split("-")[0] or None
