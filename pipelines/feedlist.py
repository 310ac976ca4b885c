"""The feed list and item URLs: ``[[feed]]`` tables read from TOML, canonical URLs without tracking parameters."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional
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


@dataclass
class FeedConfig:
    url: str
    name: Optional[str] = None
    language: Optional[str] = None


def load_feed_list(path: Path | str, substitute: Optional[dict[str, str]] = None) -> list[FeedConfig]:
    """Read ``[[feed]]`` tables (url, name, language) from a TOML file. Raises InputError."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
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
    entries = data.get("feed", data.get("feeds"))
    if not isinstance(entries, list) or not entries:
        raise InputError(f"feed list {path} has no [[feed]] tables (each with url = \"https://...\")")
    out: list[FeedConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str) or not entry["url"].strip():
            raise InputError(f"feed list {path}: feed #{i} has no url")
        url = entry["url"].strip()
        for key, value in (substitute or {}).items():
            url = url.replace(key, value)
        if urlsplit(url).scheme not in ("http", "https"):
            raise InputError(f"feed list {path}: feed #{i} url {url!r} is not http(s)")
        if entry.get("enabled", True) is False or url in seen:
            continue
        seen.add(url)
        lang = entry.get("language")
        out.append(FeedConfig(url=url, name=entry.get("name"), language=_lang(lang)))
    return out


def _lang(value: Any) -> Optional[str]:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower().replace("_", "-").split("-")[0] or None
