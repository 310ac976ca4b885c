"""Taming a hostile feed document before feedparser sees it: DTDs removed, the first items kept within a work
budget, stray entities and bad characters fixed, a broken XML tail repaired. Used by :mod:`extractor.feeds`."""

from __future__ import annotations

import re
import xml.parsers.expat
from html.entities import name2codepoint
from typing import Optional

from . import settings

_LIMITS = settings.section("feeds")  # extractor/settings.toml, each limit explained there


# --------------------------------------------------------------------------- DTD removal

_DECL_START = re.compile(r"<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)\b", re.I)



def _end_of_open_section(text: str, pos: int, at: int, n: int):
    """If `at` lies inside a CDATA section or a comment opened after `pos`, where that section ends."""
    for opener, closer in (("<![CDATA[", "]]>"), ("<!--", "-->")):
        start = text.rfind(opener, pos, at)
        if start != -1 and text.find(closer, start, at) == -1:
            end = text.find(closer, at)
            return n if end == -1 else end + len(closer)
    return None

def strip_doctype(text: str) -> tuple[str, int]:
    """Remove every DOCTYPE (with its internal subset) and stray ENTITY/ELEMENT/ATTLIST/NOTATION
    declaration. Returns (text, number removed). Linear time; quotes, comments and ``]`` inside
    entity values are handled; an unterminated declaration is cut to the end of the input."""
    out: list[str] = []
    pos = 0
    removed = 0
    n = len(text)
    while True:
        m = _DECL_START.search(text, pos)
        if not m:
            out.append(text[pos:])
            break
        # a declaration inside a CDATA section or a comment is text: leave it
        end = _end_of_open_section(text, pos, m.start(), n)
        if end is not None:
            out.append(text[pos:end])
            pos = end
            continue
        out.append(text[pos:m.start()])
        removed += 1
        i = m.end()
        quote = ""
        depth = 0  # inside the [ ... ] internal subset
        while i < n:
            c = text[i]
            if quote:
                j = text.find(quote, i)
                i = n if j == -1 else j + 1
                quote = ""
                continue
            if c in "\"'":
                quote = c
            elif text.startswith("<!--", i):
                j = text.find("-->", i + 4)
                i = n if j == -1 else j + 3
                continue
            elif c == "[":
                depth += 1
            elif c == "]":
                depth = max(0, depth - 1)
            elif c == ">" and depth == 0:
                i += 1
                break
            i += 1
        pos = i
    return "".join(out), removed


# --------------------------------------------------------------------------- item cap

_ITEM_START = re.compile(r"<(?:[A-Za-z_][\w.-]{0,40}:)?(?:item|entry)(?=[\s>/])")
_ITEM_END = re.compile(r"</(?:[A-Za-z_][\w.-]{0,40}:)?(?:item|entry)\s*>")


TAG_COST = _LIMITS["tag_cost"]
REF_COST = _LIMITS["ref_cost"]


def _cost(text: str, start: int = 0, end: Optional[int] = None) -> int:
    end = len(text) if end is None else end
    return (end - start) + TAG_COST * text.count("<", start, end) + REF_COST * text.count("&", start, end)


def _cost_prefix(text: str, budget: int) -> int:
    """The length of the longest prefix of ``text`` whose cost fits in ``budget``."""
    pos, spent, block = 0, 0, 65536
    while pos < len(text):
        c = _cost(text, pos, min(len(text), pos + block))
        if spent + c > budget:
            if block == 1:
                return pos
            block = max(1, block // 8)
            continue
        spent += c
        pos = min(len(text), pos + block)
    return pos


def _close_open(prefix: str) -> str:
    stack = _open_elements(prefix.encode("utf-8"))
    return "".join(f"</{name}>" for name in reversed(stack or []))


def _keep_first_items(text: str, limit: int, budget: int) -> tuple[str, int, int, bool]:
    """Bound the work handed to feedparser: keep the first items/entries (at most ``limit``,
    and only while the document's cost fits in ``budget``), then the document's closing part.
    A document still over budget (a huge header) is cut and its open elements closed.

    Returns (text, items seen, items dropped, whether the document itself was cut)."""
    starts = [m.start() for m in _ITEM_START.finditer(text)]
    if not starts:
        if _cost(text) <= budget:
            return text, 0, 0, False
        cut = _cost_prefix(text, budget)
        return text[:cut] + _close_open(text[:cut]), 0, 0, True
    ends = starts[1:] + [len(text)]
    spent = _cost(text, 0, starts[0])
    keep = 0
    while keep < min(limit, len(starts)):
        c = _cost(text, starts[keep], ends[keep])
        if spent + c > budget:
            break
        spent += c
        keep += 1
    if keep == len(starts):
        return text, len(starts), 0, False
    cut = starts[keep]
    head = text[:cut]
    header_cut = keep == 0 and _cost(head) > budget
    if header_cut:  # the header alone is over budget
        head = head[: _cost_prefix(head, budget)]
    last_end = None
    for m in _ITEM_END.finditer(text, cut):
        last_end = m.end()
    tail = text[last_end:] if last_end is not None else ""
    # a closing part has no item after it and costs little; otherwise close what is open
    if not tail.strip() or _ITEM_START.search(tail) or _cost(tail) > budget // 10:
        tail = _close_open(head)
    return head + tail, len(starts), len(starts) - keep, header_cut


_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ENTITY_REF = re.compile(r"&(#[0-9]{1,8};|#[xX][0-9a-fA-F]{1,8};|[A-Za-z][A-Za-z0-9]{0,31};)?")
_XML_PREDEFINED = {"amp", "lt", "gt", "quot", "apos"}


def _fix_entities(text: str) -> str:
    """With the DTD gone, HTML named entities (``&eacute;``, ``&nbsp;``) become numeric
    references; an unknown name or a bare ``&`` becomes literal text."""

    def repl(m: re.Match) -> str:
        ref = m.group(1)
        if ref is None:
            return "&amp;"
        if ref[0] == "#":
            try:
                cp = int(ref[2:-1], 16) if ref[1] in "xX" else int(ref[1:-1])
            except ValueError:
                return "&amp;" + ref
            ok = cp in (0x9, 0xA, 0xD) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or 0x10000 <= cp <= 0x10FFFF
            return m.group(0) if ok else "&amp;" + ref
        name = ref[:-1]
        if name in _XML_PREDEFINED:
            return m.group(0)
        cp = name2codepoint.get(name)
        return f"&#{cp};" if cp is not None else "&amp;" + ref

    return _ENTITY_REF.sub(repl, text)


def _xml_error(data: bytes) -> Optional[tuple[int, str]]:
    """None if ``data`` is well-formed XML, else (byte offset, message). Expat, in C: fast.
    No DTD is left at this point, so nothing can expand or be fetched."""
    p = xml.parsers.expat.ParserCreate()
    try:
        p.Parse(data, True)
    except xml.parsers.expat.ExpatError as err:
        return max(0, p.ErrorByteIndex), xml.parsers.expat.ErrorString(err.code)
    return None


def _open_elements(data: bytes) -> Optional[list[str]]:
    """The names of the elements still open at the end of ``data`` (a prefix of a document)."""
    stack: list[str] = []
    p = xml.parsers.expat.ParserCreate()
    p.StartElementHandler = lambda name, attrs: stack.append(name)
    p.EndElementHandler = lambda name: stack.pop() if stack else None
    try:
        p.Parse(data, False)
    except xml.parsers.expat.ExpatError:
        return None
    return stack


def _repair(data: bytes, error_at: int) -> Optional[tuple[bytes, int]]:
    """Cut a malformed document after the last complete item before the error and close the
    elements left open. Returns (document, items kept) or None."""
    ends = [m.end() for m in _ITEM_END_B.finditer(data, 0, error_at)]
    if not ends:
        return None
    prefix = data[: ends[-1]]
    stack = _open_elements(prefix)
    if stack is None:
        return None
    fixed = prefix + b"".join(b"</" + name.encode("utf-8") + b">" for name in reversed(stack))
    if _xml_error(fixed) is not None:
        return None
    return fixed, len(ends)


_ITEM_END_B = re.compile(rb"</(?:[A-Za-z_][\w.-]{0,40}:)?(?:item|entry)\s*>")
