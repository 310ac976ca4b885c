"""The Atom feed of incidents: one entry per incident, newest change first.

The entry id is built from the incident id only (a tag URI), so it is the same on every run; ``updated`` is the
incident's ``updated_at``, which the incident repository changes only when the incident's best values or
reports (and so its timeline) change.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Optional
from xml.etree import ElementTree as ET

from ..views import label
from . import stamps, ui

ATOM = "http://www.w3.org/2005/Atom"
TAG = "tag:incidents-extractor,2025:"
EPOCH = "1970-01-01T00:00:00Z"


def _rfc3339(value: Optional[str]) -> str:
    return stamps.utc(value) or EPOCH


def entry_id(incident_id: str) -> str:
    return TAG + incident_id


def atom(conn: sqlite3.Connection, lang: str = "en", base_url: str = "", limit: int = 500) -> bytes:
    """The feed as UTF-8 XML bytes."""
    t = ui.texts(lang, "feed")
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = t["title"]
    ET.SubElement(feed, f"{{{ATOM}}}id").text = TAG + "feed:" + lang
    rows = conn.execute(
        "SELECT id, organization, acronym, victims, victims_qualifier, data_type_codes, agency_codes, report_count, "
        "first_seen, created_at, updated_at FROM v_incidents ORDER BY updated_at DESC, id LIMIT ?", (limit,)).fetchall()
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _rfc3339(max((r[10] for r in rows), default=None))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "incidents-extractor"
    if base_url:
        ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=base_url.rstrip("/") + "/-/feed.atom")
    for iid, org, acronym, victims, qual, dts, ags, nrep, first, created, updated in rows:
        e = ET.SubElement(feed, f"{{{ATOM}}}entry")
        name = org or iid
        head = name + (f" ({acronym})" if acronym else "")
        if victims is not None:
            head += f" — {int(victims):,} {t['victims']}"
        ET.SubElement(e, f"{{{ATOM}}}title").text = head
        ET.SubElement(e, f"{{{ATOM}}}id").text = entry_id(iid)
        ET.SubElement(e, f"{{{ATOM}}}published").text = _rfc3339(created)
        ET.SubElement(e, f"{{{ATOM}}}updated").text = _rfc3339(updated)
        if base_url:
            ET.SubElement(e, f"{{{ATOM}}}link", rel="alternate", href=f"{base_url.rstrip('/')}/-/incident/{iid}")
        data = ", ".join(label("data_type", c, lang) for c in json.loads(dts or "[]"))
        agencies = ", ".join(label("agency", c, lang) for c in json.loads(ags or "[]"))
        summary = f"{t['data']}: {data or '—'}. {t['agencies']}: {agencies or '—'}. {nrep} {t['reports']}."
        ET.SubElement(e, f"{{{ATOM}}}summary").text = summary
        for c in json.loads(dts or "[]"):
            ET.SubElement(e, f"{{{ATOM}}}category", term=c, label=label("data_type", c, lang))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
