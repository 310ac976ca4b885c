"""Timestamps as UTC text ``YYYY-MM-DDTHH:MM:SSZ`` (RFC 3339, comparable as text), for the feed and the alerts."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc(value: Optional[str]) -> Optional[str]:
    """A stored ISO timestamp (``Z``, an offset, or none: UTC) as UTC text; None when empty or unreadable."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return iso(dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc))
