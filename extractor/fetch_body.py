"""Reading one response body: streamed, decompressed in bounded steps, capped, within the request's deadline.

Used by :mod:`extractor.fetch` for every hop; a watchdog shuts the socket at the deadline so a body trickling
in cannot outlive it.
"""

from __future__ import annotations

import socket
import threading
import time
import zlib
from typing import Iterator, Optional

import httpx

from .decoding import CHUNK as _CHUNK, CappedDecoder
from .errors import FetchError
from .netguard import _one_line, _short


def fmt_seconds(t: float) -> str:
    return f"{t:g}s"


class Deadline:
    """The end of one whole request (redirects and body included)."""

    def __init__(self, total: float):
        self.total = total
        self.start = time.monotonic()
        self.end = self.start + total

    def left(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return time.monotonic() >= self.end


def read_body(response: httpx.Response, hdrs: dict, url: str, limit: int, strict: bool, deadline: Deadline) -> bytes:
    """The body, decompressed, stopping at ``limit`` decoded bytes (an error when ``strict``, else cut there)."""
    too_big = f"page larger than {limit} bytes: {_short(url)}"
    declared = hdrs.get("content-length", "").strip()
    if strict and declared.isdigit() and int(declared) > limit:
        raise FetchError(too_big)
    codings = [c.strip().lower() for c in hdrs.get("content-encoding", "").split(",") if c.strip()]
    codings = [c for c in codings if c not in ("identity",)]
    if len(codings) > 2:
        raise FetchError(f"unsupported content encoding {_one_line(', '.join(codings))[:60]}: {_short(url)}")
    for c in codings:
        if c not in ("gzip", "x-gzip", "deflate"):
            raise FetchError(f"unsupported content encoding {_one_line(c)[:40]}: {_short(url)}")
    decoders = [CappedDecoder("gzip" if c == "x-gzip" else c) for c in reversed(codings)]
    out = bytearray()
    raw_total = 0

    def push(piece: bytes, depth: int) -> Iterator[bytes]:
        if depth == len(decoders):
            yield piece
            return
        for p in decoders[depth].feed(piece):
            yield from push(p, depth + 1)

    try:
        for raw in response.iter_raw(_CHUNK):
            raw_total += len(raw)
            if raw_total > limit and strict:
                raise FetchError(too_big)
            for piece in push(raw, 0):
                if len(out) + len(piece) > limit:
                    if strict:
                        raise FetchError(too_big)
                    out += piece[: limit - len(out)]
                    return bytes(out)
                out += piece
            if deadline.passed():
                raise FetchError(f"timed out after {fmt_seconds(deadline.total)}: {_short(url)}")
            if raw_total > limit and not strict:
                return bytes(out)
        for depth, dec in enumerate(decoders):  # what each layer still holds, through the layers after it
            for held in dec.flush():
                for piece in push(held, depth + 1):
                    if len(out) + len(piece) > limit:
                        if strict:
                            raise FetchError(too_big)
                        return bytes(out + piece[: limit - len(out)])
                    out += piece
    except zlib.error as err:
        raise FetchError(f"cannot decode the {'/'.join(codings)} body of {_short(url)}: {_one_line(err)}") from None
    return bytes(out)


def arm_watchdog(response: httpx.Response, deadline: Deadline, fired: threading.Event) -> Optional[threading.Timer]:
    """At the deadline, shut the socket down so a body trickling in cannot outlive it."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is None:
        return None
    left = deadline.left()

    def fire() -> None:
        fired.set()
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain-socket method, also for TLS sockets
        except OSError:
            pass

    if left <= 0:
        fire()
        return None
    timer = threading.Timer(left, fire)
    timer.daemon = True
    timer.start()
    return timer
