"""Web archives and document dumps, read in partitions of bounded size.

Two kinds of archive are read:

* **WARC** files (``.warc``, ``.warc.gz`` with one gzip member per record, as crawlers write them),
  read with warcio. Only ``response`` (and ``resource``) records whose payload is HTML become
  documents; ``request``, ``metadata``, ``revisit``, ``warcinfo`` records, non-HTML payloads,
  responses other than 2xx and payloads over 10 MB are skipped and counted. A document is
  ``{"id": WARC-Record-ID, "url": WARC-Target-URI, "html": payload}``, its charset taken from the
  HTTP header, else the page's ``<meta charset>``, else UTF-8 (cp1252 as a fallback).
* **JSONL** document dumps, the ``incidents extract --docs`` input (``.jsonl``, ``.ndjson``,
  ``.jsonl.gz``): one document a line, read exactly as ``extract --docs`` reads them (a line that
  is not a JSON object becomes an error record with its line number).

``plan_archive`` scans an archive once and cuts it into partitions: contiguous byte ranges starting
on record (or line) boundaries, each with at most ``max_docs`` documents and about ``max_bytes``
bytes. ``read_partition`` reads one partition back. Damage (a truncated record, a corrupt gzip
member, bytes that are no WARC record) never stops a scan: the damaged record is reported with its
byte offset and the reader resynchronises on the next gzip member or ``WARC/`` line.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Optional

from ..document import BadInput
from ..errors import InputError
from ..sources import scrub_surrogates

MAX_PAYLOAD = 10_000_000  # bytes of one page; larger payloads are skipped (the CLI's file cap is 20 MB)
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"(?:^|\n)WARC/1\.[01]\r?\n")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)
_WARC_SUFFIXES = (".warc", ".warc.gz", ".arc.gz")
_JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
SUFFIXES = _WARC_SUFFIXES + _JSONL_SUFFIXES
MAX_DAMAGE_REPORTED = 20  # per archive; the count goes on


@dataclass(frozen=True)
class Archive:
    """One input file: where it is, what it holds, and a stable identity for its partitions' names."""

    path: str  # absolute: workers open it by this path
    kind: str  # "warc" or "jsonl"
    compressed: bool
    size: int
    key: str  # "<stem>-<8 hex>": the same file (even moved or copied) gets the same key

    def to_dict(self) -> dict:
        return asdict(self)


def find_archives(args: list[str]) -> list[Archive]:
    """The archives named on the command line (a directory means the archives in it, in name order)."""
    paths: list[Path] = []
    for arg in args:
        p = Path(arg)
        if not p.exists():
            raise InputError(f"no such archive: {arg}")
        if p.is_dir():
            inside = sorted(q for q in p.iterdir() if q.is_file() and q.name.lower().endswith(SUFFIXES))
            if not inside:
                raise InputError(f"{arg}: no archive in this directory (expected {', '.join(SUFFIXES)})")
            paths.extend(inside)
        else:
            paths.append(p)
    seen: dict[str, Archive] = {}
    for p in paths:
        arch = open_archive(p)
        if arch.key not in seen:  # the same file named twice is read once
            seen[arch.key] = arch
    return list(seen.values())


def open_archive(path: Path) -> Archive:
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(65536)
            if size > 65536:
                fh.seek(-65536, os.SEEK_END)
            tail = fh.read(65536) if size > 65536 else b""
    except OSError as err:
        raise InputError(f"cannot read archive {path}: {err.strerror or err}") from None
    kind, compressed = _sniff(path, head)
    digest = hashlib.sha1(f"{path.name}\0{size}\0".encode() + head + tail).hexdigest()[:8]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.name)
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return Archive(str(path.resolve()), kind, compressed, size, f"{stem[:80] or 'archive'}-{digest}")


def _sniff(path: Path, head: bytes) -> tuple[str, bool]:
    """("warc" | "jsonl", gzip-compressed?) from the first bytes, the file name when they do not tell."""
    name = path.name.lower()
    compressed = head[:3] == _GZIP_MAGIC
    data = head
    if compressed:
        try:
            data = zlib.decompressobj(31).decompress(head, 4096)
        except zlib.error:
            data = b""  # a corrupt first member: the name decides, the scan reports the damage
    start = data.lstrip()[:8]
    if start.startswith(b"WARC/"):
        return "warc", compressed
    if start.startswith(b"{"):
        return "jsonl", compressed
    if name.endswith(_WARC_SUFFIXES) and (compressed or not head):
        return "warc", compressed
    if name.endswith(_JSONL_SUFFIXES):
        return "jsonl", compressed  # a dump whose first line is bad: it becomes an error record
    if not head:
        raise InputError(f"{path} is empty")
    raise InputError(f"{path} is neither a WARC file nor a JSONL document dump")


# -- WARC ----------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One record found in a WARC byte range."""

    offset: int
    skip: Optional[str] = None  # why it is not a document: "request", "non_html", "truncated", ...
    doc: Optional[dict] = None
    damage: Optional[str] = None  # set for damaged bytes (offset = where the damage starts)


def _is_html(content_type: Optional[str], payload_head: bytes) -> bool:
    if content_type:
        return content_type.split(";", 1)[0].strip().lower() in _HTML_TYPES
    head = payload_head.lstrip()[:64].lower()
    return head.startswith((b"<!doctype html", b"<html"))


def decode_html(payload: bytes, content_type: Optional[str]) -> str:
    """The page's text: the HTTP charset, else <meta charset>, else UTF-8, else cp1252."""
    candidates = []
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type or "", re.I)
    if m:
        candidates.append(m.group(1))
    m = _CHARSET.search(payload[:4096])
    if m:
        candidates.append(m.group(1).decode("ascii"))
    candidates += ["utf-8", "cp1252"]
    for enc in candidates:
        try:
            return payload.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")


def _entry(rec, read_payload: bool) -> Entry:
    """What a warcio record is to us; reads its payload when it is a document (and `read_payload`)."""
    rec_type = rec.rec_type
    if rec_type not in ("response", "resource"):
        return Entry(0, skip=rec_type or "unknown")
    if rec_type == "response":
        http = rec.http_headers
        if http is None:
            return Entry(0, skip="non_http")
        status = (http.get_statuscode() or "").strip()
        if not status.startswith("2"):
            return Entry(0, skip="not_ok")
        content_type = http.get_header("Content-Type")
    else:
        content_type = rec.rec_headers.get_header("Content-Type")
    if content_type and not _is_html(content_type, b""):
        return Entry(0, skip="non_html")
    if not read_payload and content_type:
        # planning: the payload is read (to find damage) but not decoded
        while rec.raw_stream.read(1 << 16):
            pass
        if getattr(rec.raw_stream, "limit", 0):
            return Entry(0, skip="truncated")
        return Entry(0)
    stream = rec.content_stream()
    payload = stream.read(MAX_PAYLOAD + 1)
    if len(payload) > MAX_PAYLOAD:
        return Entry(0, skip="too_large")
    while rec.raw_stream.read(1 << 16):  # what content decoding left unread
        pass
    if getattr(rec.raw_stream, "limit", 0):  # fewer bytes than Content-Length: cut off
        return Entry(0, skip="truncated")
    if not _is_html(content_type, payload[:256]):
        return Entry(0, skip="non_html")
    if not read_payload:
        return Entry(0)
    rec_id = (rec.rec_headers.get_header("WARC-Record-ID") or "").strip().strip("<>")
    url = rec.rec_headers.get_header("WARC-Target-URI")
    doc = {"html": decode_html(payload, content_type), "url": url.strip() if url else None}
    if rec_id:
        doc = {"id": rec_id, **doc}
    return Entry(0, doc=scrub_surrogates(doc))


def _resync(fh, after: int, compressed: bool, limit: int) -> Optional[int]:
    """The first offset >= `after` (and < `limit`) where a readable WARC record starts, or None."""
    from warcio.archiveiterator import ArchiveIterator

    pos = after
    while pos < limit:
        fh.seek(pos)
        chunk = fh.read(1 << 20)
        if not chunk:
            return None
        if compressed:
            i = chunk.find(_GZIP_MAGIC)
            found = -1 if i < 0 else pos + i
        else:
            m = _WARC_LINE.search(chunk)
            found = -1 if m is None else pos + m.start() + (1 if chunk[m.start():m.start() + 1] == b"\n" else 0)
        if found < 0:
            pos += max(1, len(chunk) - 16)  # overlap: a magic cut by the chunk's end is found next time
            continue
        if found >= limit:
            return None
        fh.seek(found)
        try:
            rec = next(iter(ArchiveIterator(fh, check_digests=False)))
            while rec.raw_stream.read(1 << 16):
                pass
            return found
        except Exception:  # a false start (gzip magic inside compressed data): keep looking
            pos = found + 1
    return None


def warc_entries(path: str, start: int, end: int, compressed: bool, *, read_payload: bool = True) -> Iterator[Entry]:
    """Every record that starts in [start, end) of a WARC file, in order, damage included."""
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as fh:
        pos: Optional[int] = start
        while pos is not None and pos < end:
            fh.seek(pos)
            it = ArchiveIterator(fh, check_digests=False)
            last = pos
            try:
                for rec in it:
                    entry = _entry(rec, read_payload)
                    entry.offset = it.get_record_offset()
                    if entry.offset >= end:
                        return
                    last = entry.offset
                    yield entry
                    last = entry.offset + max(1, it.get_record_length())
                return
            except Exception as err:  # noqa: BLE001 - warcio raises many kinds on damaged bytes
                reason = _damage_reason(err, compressed)
                if last >= end:
                    return
                yield Entry(last, damage=reason)
                pos = _resync(fh, last + 1, compressed, end)


def _damage_reason(err: Exception, compressed: bool) -> str:
    """One short, printable line for what was wrong with the bytes."""
    text = " ".join(str(err).split())
    if "non-chunked" in text:
        return "one gzip stream for many records: decompress the file (gunzip) to backfill it"
    if compressed:
        return f"corrupt or truncated gzip member ({type(err).__name__})"
    first = text.split("first line:", 1)[1] if "first line:" in text else ""
    first = re.sub(r"[^\x20-\x7e]+", "?", first).strip(" []'\"")[:40]
    return f"not a WARC record (starts with {first!r})" if first else f"not a readable WARC record ({type(err).__name__})"


# -- JSONL ---------------------------------------------------------------------------------------


def parse_jsonl_line(line: str, n: int):
    """A document dict, a BadInput (as `extract --docs` makes them), or None for a blank line."""
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except ValueError as err:
        return BadInput(f"line {n}: malformed JSON ({err.msg})")
    if not isinstance(obj, dict):
        return BadInput(f"line {n}: not a JSON object")
    return scrub_surrogates(obj)


def _jsonl_lines(path: str, compressed: bool, start: int, first_line: int, n_lines: Optional[int], end: int):
    """(line number, text, bytes) from a byte offset (plain files) or by skipping lines (gzip)."""
    if compressed:
        fh = gzip.open(path, "rb")
        skip = first_line - 1
    else:
        fh = open(path, "rb")
        fh.seek(start)
        skip = 0
    with fh:
        n = first_line - skip
        pos = start
        for raw in fh:
            if skip:
                skip -= 1
                n += 1
                continue
            if (not compressed and pos >= end) or (n_lines is not None and n >= first_line + n_lines):
                return
            pos += len(raw)
            yield n, raw.decode("utf-8", errors="replace"), len(raw)
            n += 1


# -- planning and reading ------------------------------------------------------------------------


def plan_archive(archive: dict, max_docs: int, max_bytes: int) -> dict:
    """Cut one archive into partitions; return the plan (JSON-able): partitions, skipped counts, damage.

    A partition is ``{"name", "index", "start", "end", "first_line", "lines", "docs"}``: the byte range
    [start, end) (WARC and plain JSONL) or the lines from ``first_line`` (gzip JSONL), with at most
    `max_docs` documents, a new one starting once `max_bytes` bytes are passed.
    """
    skipped: dict[str, int] = {}
    damage: list[dict] = []
    n_damage = 0
    parts: list[dict] = []

    def unit(offset: int, is_doc: bool, line: int = 0) -> None:
        """One record (or line) at `offset`: it opens a new partition when the current one is full."""
        cur = parts[-1] if parts else None
        if cur is None or (is_doc and cur["docs"] >= max_docs) or offset - cur["start"] >= max_bytes:
            if cur is not None:
                cur["end"] = offset
            cur = {"start": offset, "end": None, "first_line": line, "lines": 0, "docs": 0}
            parts.append(cur)
        cur["docs"] += is_doc
        if line:
            cur["lines"] = line - cur["first_line"] + 1

    if archive["kind"] == "warc":
        for e in warc_entries(archive["path"], 0, archive["size"], archive["compressed"], read_payload=False):
            if e.damage:
                n_damage += 1
                if len(damage) < MAX_DAMAGE_REPORTED:
                    damage.append({"offset": e.offset, "reason": e.damage})
                continue
            if e.skip:
                skipped[e.skip] = skipped.get(e.skip, 0) + 1
            unit(e.offset, e.skip is None)
    else:
        offset = 0
        for n, line, size in _jsonl_lines(archive["path"], archive["compressed"], 0, 1, None, 1 << 62):
            if line.strip() or parts:
                unit(offset, bool(line.strip()), n)
            offset += size
    if parts:
        parts[-1]["end"] = None if archive["kind"] == "jsonl" and archive["compressed"] else archive["size"]
    for i, part in enumerate(parts):
        part["index"] = i
        part["name"] = f"{archive['key']}-p{i:05d}"
    return {
        "archive": archive,
        "partitions": [p for p in parts if p["docs"]],
        "skipped": skipped,
        "damage": damage,
        "damaged": n_damage,
    }


def read_partition(archive: dict, part: dict, counts: dict) -> Iterator:
    """The documents of one partition, in archive order; `counts` gets the records skipped, by reason."""
    if archive["kind"] == "warc":
        for e in warc_entries(archive["path"], part["start"], part["end"], archive["compressed"]):
            if e.damage:
                counts["damaged"] = counts.get("damaged", 0) + 1
            elif e.skip:
                counts[e.skip] = counts.get(e.skip, 0) + 1
            else:
                yield e.doc
        return
    end = part["end"] if part.get("end") is not None else 1 << 62
    for n, line, _size in _jsonl_lines(archive["path"], archive["compressed"], part["start"], part["first_line"], part["lines"], end):
        doc = parse_jsonl_line(line, n)
        if doc is not None:
            yield doc
