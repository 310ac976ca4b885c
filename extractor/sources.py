"""Where documents come from: a URL, a local file, standard input, or a JSONL batch.

Each source becomes a document dict for `Extractor`; every problem a user can cause is
an `InputError` / `FetchError` with one line.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Iterator, Union
from urllib.parse import urlparse

from .document import BadInput
from .errors import FetchError, InputError

MAX_FILE_BYTES = 20_000_000
_SURROGATES = re.compile("[\ud800-\udfff]")


def scrub_surrogates(value):
    """A string without lone surrogates (a JSON "\\ud800" escape): each becomes U+FFFD, offsets unchanged.

    Such a string cannot be encoded as UTF-8, so it would fail in hashing, parsing and output.
    Dicts and lists are scrubbed recursively; other values are returned as they are.
    """
    if isinstance(value, str):
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return _SURROGATES.sub("\ufffd", value)
    if isinstance(value, dict):
        return {scrub_surrogates(k): scrub_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_surrogates(v) for v in value]
    return value


def decode_bytes(data: bytes, what: str) -> str:
    if not data.strip():
        raise InputError(f"{what} is empty")
    if b"\x00" in data[:8192]:
        raise InputError(f"{what} is a binary file, not a text or HTML document")
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _existing_file(name: Union[str, Path], kind: str) -> Path:
    """The path `name` when it is a file; otherwise one InputError: missing, or a directory where `kind` was expected."""
    path = Path(name)
    if not path.exists():
        raise InputError(f"no such file: {name}")
    if path.is_dir():
        raise InputError(f"{name} is a directory, not {kind}")
    return path


def read_source(source: str, *, allow_private: bool = False) -> dict:
    """A document dict from a URL, a file path or '-' (stdin)."""
    try:
        scheme = urlparse(source).scheme.lower()
    except ValueError as err:  # "http://[::1": urlparse refuses a broken IPv6 host
        raise FetchError(f"invalid URL ({err}): {source}") from None
    if scheme in ("http", "https"):
        from .fetch import FetchSettings, fetch_page

        resp = fetch_page(source, settings=FetchSettings(allow_private=allow_private))
        text = resp.text()
        key = "html" if "html" in (resp.content_type or "") or text.lstrip()[:1] == "<" else "text"
        return {"url": resp.final_url, key: text}
    if len(scheme) > 1:  # file://, ftp://, data:... (a one-letter scheme is a Windows drive)
        raise FetchError(f"unsupported URL scheme {scheme!r}: only http and https URLs, local files and - are accepted")
    if source == "-":
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        what = "standard input"
    else:
        path = _existing_file(source, "a document")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(f"{source} is larger than {MAX_FILE_BYTES} bytes")
        try:
            data = path.read_bytes()
        except OSError as err:
            raise InputError(f"cannot read {source}: {err.strerror}") from None
        what = source
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{what} is larger than {MAX_FILE_BYTES} bytes")
    text = decode_bytes(data, what)
    from .html import looks_like_html

    is_html = source.lower().endswith((".html", ".htm", ".xhtml")) or looks_like_html(text)
    return {"html" if is_html else "text": text}


def read_docs_jsonl(path: Union[str, Path]) -> Iterator[Union[dict, BadInput]]:
    """Documents of a JSONL file; a line that is not a JSON object becomes a BadInput (an error record)."""
    if str(path) == "-":
        fh = sys.stdin
    else:
        p = _existing_file(path, "a JSONL file")
        head = p.open("rb").read(8192)
        if b"\x00" in head:
            raise InputError(f"{path} is a binary file, not JSONL")
        fh = p.open(encoding="utf-8", errors="replace")
    with fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as err:
                yield BadInput(f"line {n}: malformed JSON ({err.msg})")
                continue
            if not isinstance(obj, dict):
                yield BadInput(f"line {n}: not a JSON object")
                continue
            yield scrub_surrogates(obj)
