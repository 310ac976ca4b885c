"""The summary of one ingest run: what was polled, stored and found, and the one line printed at the end."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Summary:
    feeds_polled: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    feeds_skipped: int = 0  # backed off, Retry-After, or retired
    new_items: int = 0
    documents: int = 0
    incident_reports: int = 0
    new_incidents: int = 0
    errors: int = 0  # failed feeds + failed items + merge errors
    items_failed: int = 0
    items_disallowed: int = 0  # pages robots.txt forbids: skipped, never fetched
    stopped: bool = False
    messages: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"{self.feeds_polled} feeds polled"]
        detail = []
        if self.feeds_not_modified:
            detail.append(f"{self.feeds_not_modified} not modified")
        if self.feeds_failed:
            detail.append(f"{self.feeds_failed} failed")
        if self.feeds_skipped:
            detail.append(f"{self.feeds_skipped} skipped: backoff or retired")
        if detail:
            parts[0] += " (" + ", ".join(detail) + ")"
        parts.append(f"{self.new_items} new items")
        if self.items_disallowed:
            parts.append(f"{self.items_disallowed} pages skipped by robots.txt")
        parts.append(f"{self.documents} documents stored")
        parts.append(f"{self.incident_reports} incidents found ({self.new_incidents} new)")
        parts.append(f"{self.errors} errors")
        return "ingest: " + ", ".join(parts) + (" (stopped early)" if self.stopped else "")

    def docs_line(self) -> str:
        """The summary of ``incidents ingest --docs`` (no feeds)."""
        return (f"ingest: {self.documents} documents stored, {self.incident_reports} incidents found "
                f"({self.new_incidents} new), {self.errors} errors" + (" (stopped early)" if self.stopped else ""))

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "messages"}
        return d
