"""Body decoding: bytes of a page or feed to text (charset sniffing), and bounded gzip/deflate.

Used by the fetcher (:mod:`extractor.fetch`) for what it reads and by :mod:`extractor.feeds` for
feed bytes from any source. Nothing here raises on bad bytes: they become U+FFFD.
"""

from __future__ import annotations

import codecs
import re
import zlib
from typing import Iterator, Optional

CHUNK = 64 * 1024  # the largest piece the capped decoder yields at once


# --------------------------------------------------------------------------- text decoding

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def charset_name(name: Optional[str]) -> Optional[str]:
    """Python's codec name for a declared charset, or None when Python does not know it."""
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None


_SINGLE_BYTE = {"latin_1", "iso8859-1", "cp1252", "iso8859-15", "ascii", "cp1250", "iso8859-2", "mac-roman"}


def decode_body(content: bytes, declared: Optional[str] = None) -> str:
    """Decode bytes of a page or feed without ever raising."""
    return sniff_decode(content, declared)[0]


def sniff_decode(content: bytes, declared: Optional[str] = None) -> tuple[str, str]:
    """``(text, encoding used)``: BOM, the declared charset (HTTP, then the XML declaration or a
    ``<meta charset>``), then UTF-8, then Windows-1252. Never raises: bad bytes become U+FFFD.

    A declared single-byte charset (latin-1, windows-1252...) is overruled when the bytes are
    valid UTF-8 with non-ASCII characters: a wrong declaration is much likelier than chance.
    """
    content = bytes(content or b"")
    for bom, enc in _BOMS:
        if content.startswith(bom):
            return content[len(bom):].decode(enc, "replace"), enc
    head = content[:2048]
    candidates = [charset_name(declared)]
    m = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    if m:
        candidates.append(charset_name(m.group(1).decode("ascii", "replace")))
    utf8: Optional[str]
    try:
        utf8 = content.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    for enc in candidates:
        if not enc or enc.startswith(("utf-16", "utf-32")):
            continue  # a declared UTF-16/32 without a BOM is almost always wrong for web content
        if enc == "utf-8":
            if utf8 is not None:
                return utf8, "utf-8"
            break  # declared UTF-8 but not valid: the heuristic below
        if enc in _SINGLE_BYTE and utf8 is not None and not utf8.isascii():
            return utf8, "utf-8"
        try:
            return content.decode(enc), enc
        except UnicodeDecodeError:
            return content.decode(enc, "replace"), enc
    if utf8 is not None:
        return utf8, "utf-8"
    text = content.decode("utf-8", "replace")
    # Mostly UTF-8 with a few bad bytes: keep UTF-8. No valid multi-byte sequence at all:
    # a legacy single-byte page (French pages are often Windows-1252).
    if any(ord(c) > 127 and c != "\ufffd" for c in text):
        return text, "utf-8"
    return content.decode("cp1252", "replace"), "cp1252"


# --------------------------------------------------------------------------- decoding with a cap


class CappedDecoder:
    """Incremental gzip/deflate decoder yielding bounded pieces (never a whole bomb at once)."""

    def __init__(self, encoding: str):
        self.encoding = encoding
        self._first = True
        self._raw_deflate_tried = False
        self._members = 0
        self._done = False
        self._obj = self._new()

    def _new(self):
        if self.encoding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._done:
            return
        while True:
            try:
                out = self._obj.decompress(data, CHUNK)
            except zlib.error:
                if self.encoding == "deflate" and self._first and not self._raw_deflate_tried:
                    self._raw_deflate_tried = True  # some servers send raw deflate without the zlib header
                    self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                if self._members > 0 and self._first:
                    self._done = True  # junk after a complete gzip member: ignored, as browsers do
                    return
                raise
            self._first = False
            if out:
                yield out
            if self._obj.eof:
                rest = self._obj.unused_data.lstrip(b"\x00")
                self._members += 1
                if rest and self.encoding == "gzip":
                    self._obj = self._new()  # a multi-member gzip stream
                    self._first = True
                    data = rest
                    continue
                if rest:
                    self._done = True
                return
            data = self._obj.unconsumed_tail
            if not data and len(out) < CHUNK:
                return  # all input used and no output held back

    def flush(self) -> Iterator[bytes]:
        """What the decompressor still holds at the end of the body (a truncated stream)."""
        if self._done or self._obj.eof:
            return
        try:
            while True:
                out = self._obj.decompress(b"", CHUNK)
                if not out:
                    return
                yield out
        except zlib.error:
            return
