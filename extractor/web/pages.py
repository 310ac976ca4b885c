"""Server-side HTML and SVG for the web view: the incident page and the charts (nothing fetched at run time).

Every function takes an open sqlite3 connection (read-only is enough) and returns text.
"""

from __future__ import annotations

import json
import sqlite3
from html import escape
from typing import Optional

from ..views import label
from . import ui

CHARTS = {"month": "by_month", "data_type": "by_data_type", "authority": "by_authority"}

CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222} a{color:#1a5fb4}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
.reports{display:flex;gap:1em;align-items:flex-start;overflow-x:auto}
.report{flex:1 1 0;min-width:22em;border:1px solid #bbb;border-radius:6px;padding:.6em}
.report .text{white-space:pre-wrap;font-size:.9em;line-height:1.45;max-height:40em;overflow-y:auto}
mark.ev{background:#fff1a8;border-bottom:2px solid #d4a800} mark.best{background:#ffd27a;border-bottom-color:#c25e00}
mark.ev-victims{background:#c8f0c8} mark.ev-agency{background:#d8e4ff} mark.ev-organization{background:#f4d8ff}
nav a{margin-right:1em}
"""


def _page(title: str, body: str, lang: str) -> str:
    t = ui.texts(lang, "page")
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<style>{CSS}</style></head><body><nav><a href="/">{t["home"]}</a><a href="/-/charts">{t["charts"]}</a>'
            f'<a href="/-/feed.atom">{t["feed"]}</a></nav>{body}</body></html>')


# -- evidence highlighting ----------------------------------------------------------------------------------
def evidence_spans(record: dict, best: dict, report_id: int, lang: str) -> list[dict]:
    """Every evidence span of a record: field, code, label, start, end, text, and whether it is the best value."""
    spans = []

    def add(field: str, code: str, shown: str, ev: Optional[dict], is_best: bool) -> None:
        if ev and isinstance(ev.get("start"), int) and isinstance(ev.get("end"), int):
            spans.append({"field": field, "code": code, "label": shown, "start": ev["start"], "end": ev["end"],
                          "text": ev.get("text") or "", "best": is_best})

    org = record.get("organization") or {}
    add("organization", "", org.get("name") or "", org.get("evidence"),
        (best.get("organization") or {}).get("report_id") == report_id)
    vic = record.get("victims") or {}
    add("victims", str(vic.get("count") or ""), str(vic.get("count") or ""), vic.get("evidence"),
        (best.get("victims") or {}).get("report_id") == report_id)
    for dt in record.get("data_types") or []:
        add("data_type", dt["code"], label("data_type", dt["code"], lang), dt.get("evidence"), True)
    for ag in record.get("agencies") or []:
        add("agency", ag["code"], label("agency", ag["code"], lang), ag.get("evidence"), True)
    for kind, d in (record.get("dates") or {}).items():
        if d:
            add("date", kind, d.get("date") or "", d.get("evidence"),
                ((best.get("dates") or {}).get(kind) or {}).get("report_id") == report_id)
    return spans


def highlight(text: str, spans: list[dict]) -> str:
    """The text, HTML-escaped, each span that matches its offsets wrapped in a <mark>; overlaps keep the first."""
    out, pos = [], 0
    for s in sorted(spans, key=lambda s: (s["start"], -s["end"])):
        start, end = s["start"], s["end"]
        if start < pos or end > len(text) or start >= end or (s["text"] and text[start:end] != s["text"]):
            continue  # a span that does not match the text is never shown as evidence
        out.append(escape(text[pos:start]))
        cls = f'ev ev-{s["field"]}' + (" best" if s["best"] else "")
        out.append(f'<mark class="{cls}" data-field="{escape(s["field"])}" data-code="{escape(s["code"])}" '
                   f'title="{escape(s["label"])}">{escape(text[start:end])}</mark>')
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)


# -- the incident page --------------------------------------------------------------------------------------
def _resolve(conn: sqlite3.Connection, iid: str) -> Optional[str]:
    if conn.execute("SELECT 1 FROM incidents WHERE id=?", (iid,)).fetchone():
        return iid
    row = conn.execute("SELECT incident_id FROM incident_aliases WHERE old_id=?", (iid,)).fetchone()
    return row[0] if row else None


def _best_evidence(conn, best: dict, field: str) -> Optional[dict]:
    """The evidence of a best value, read from the record of the report it came from."""
    value = best.get(field) or {}
    rid = value.get("report_id")
    if rid is None:
        return None
    row = conn.execute("SELECT record_json FROM reports WHERE id=?", (rid,)).fetchone()
    if not row:
        return None
    return ((json.loads(row[0]).get(field) or {}).get("evidence")) or None


def count_timeline_svg(points: list[tuple[str, int]], title: str) -> str:
    """A small step chart of the count over time (dates as text, counts as ints)."""
    if not points:
        return ""
    w, h, pad = 420, 140, 40
    top = max(c for _, c in points) or 1
    n = len(points)
    xs = [pad + (i * (w - 2 * pad) / max(n - 1, 1)) for i in range(n)]
    ys = [h - pad + 10 - (c / top) * (h - pad - 20) for _, c in points]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(zip(xs, ys)))
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#c25e00"><title>{escape(d)}: {c}</title></circle>'
                   f'<text x="{x:.1f}" y="{y - 8:.1f}" font-size="11" text-anchor="middle">{c:,}</text>'
                   f'<text x="{x:.1f}" y="{h - 8}" font-size="10" text-anchor="middle">{escape(d or "")}</text>'
                   for x, y, (d, c) in zip(xs, ys, points))
    return (f'<svg class="chart count-timeline" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'role="img" aria-label="{escape(title)}"><path d="{path}" fill="none" stroke="#c25e00" '
            f'stroke-width="2"/>{dots}</svg>')


def _event_text(kind: str, detail_json: str, lang: str) -> str:
    """A timeline change in words (the raw JSON as a tooltip)."""
    try:
        d = json.loads(detail_json)
    except ValueError:
        return escape(detail_json)
    if kind == "count_revised":
        text = f'{d.get("from") if d.get("from") is not None else "—"} → {d.get("to")}'
    elif kind in ("data_type_added", "agency_added"):
        text = label("data_type" if kind == "data_type_added" else "agency", str(d.get("code")), lang)
    elif kind == "first_seen":
        text = f'{d.get("organization") or ""} · {d.get("count") if d.get("count") is not None else "—"} · ' \
               f'{d.get("language") or ""}'
    elif kind == "report_added":
        text = f'{d.get("language") or ""} {d.get("kind") or ""} {d.get("url") or ""}'
    else:
        text = detail_json
    return f'<span title="{escape(detail_json)}">{escape(text)}</span>'


def incident_html(conn: sqlite3.Connection, incident_id: str, lang: str = "en") -> Optional[str]:
    t = ui.texts(lang, "page")
    iid = _resolve(conn, incident_id)
    if iid is None:
        return None
    row = conn.execute("SELECT * FROM v_incidents WHERE id=?", (iid,)).fetchone()
    cols = [d[0] for d in conn.execute("SELECT * FROM v_incidents LIMIT 0").description]
    inc = dict(zip(cols, row))
    best = json.loads(conn.execute("SELECT best_json FROM incidents WHERE id=?", (iid,)).fetchone()[0] or "{}")
    name = inc["organization"] or iid
    head = escape(name) + (f' ({escape(inc["acronym"])})' if inc["acronym"] else "")
    rows = []
    if inc["victims"] is not None:
        ev = _best_evidence(conn, best, "victims")
        ev_html = f' — {t["evidence"]}: «<q id="best-victims-evidence">{escape(ev["text"])}</q>»' if ev else ""
        rows.append((t["victims"], f'<span id="best-victims">{int(inc["victims"]):,}</span> '
                                   f'{escape((inc["victims_qualifier"] or "").replace("_", " "))} {escape(inc["victims_unit"] or "")}{ev_html}'))
    dts = [label("data_type", d["code"], lang) for d in best.get("data_types") or []]
    ags = [label("agency", a["code"], lang) for a in best.get("agencies") or []]
    rows.append((t["data_types"], escape(", ".join(dts)) or t["none"]))
    rows.append((t["agencies"], escape(", ".join(ags)) or t["none"]))
    dates = ", ".join(f'{t.get(k, k)} {v["date"]}' for k, v in (best.get("dates") or {}).items() if v and v.get("date"))
    if dates:
        rows.append((t["dates"], escape(dates)))
    rows += [(t["first_seen"], escape(inc["first_seen"] or "")), (t["last_seen"], escape(inc["last_seen"] or "")),
             (t["languages"], escape(inc["languages"] or ""))]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    events = conn.execute("SELECT at, kind, detail_json, report_id FROM timeline WHERE incident_id=? ORDER BY id",
                          (iid,)).fetchall()
    tl = "".join(f'<tr class="event event-{escape(k)}"><td>{escape(a or "")}</td><td>{escape(k)}</td>'
                 f'<td>{_event_text(k, d, lang)}</td><td>{r if r is not None else ""}</td></tr>'
                 for a, k, d, r in events)
    points = []
    for a, k, d, _r in events:
        detail = json.loads(d)
        value = detail.get("to") if k == "count_revised" else detail.get("count") if k == "first_seen" else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            points.append((a or "", int(value)))
    reports = conn.execute(
        "SELECT r.id, r.record_json, d.text, d.title, d.url, d.language, d.published FROM incident_reports ir "
        "JOIN reports r ON r.id = ir.report_id JOIN documents d ON d.id = r.document_id WHERE ir.incident_id=? "
        "ORDER BY d.published, r.id", (iid,)).fetchall()
    cards = []
    for rid, rj, text, title, url, language, published in reports:
        rec = json.loads(rj)
        spans = evidence_spans(rec, best, rid, lang)
        link = f'<a href="{escape(url)}">{escape(title or url)}</a>' if url else escape(title or "")
        cards.append(f'<article class="report" data-report-id="{rid}" lang="{escape(language or "")}">'
                     f'<h3>{link}</h3><p>{escape(language or "")} · {escape(published or "")} · #{rid}</p>'
                     f'<div class="text">{highlight(text or "", spans)}</div></article>')
    body = (f'<h1 data-incident-id="{escape(iid)}">{head}</h1><p><code>{escape(iid)}</code></p>'
            f'<table class="best">{table}</table>'
            f'<h2>{t["timeline"]}</h2>{count_timeline_svg(points, t["count_timeline"])}'
            f'<table class="timeline"><tr><th>{t["at"]}</th><th>{t["change"]}</th><th></th><th>{t["report"]}</th></tr>'
            f'{tl}</table><h2>{t["reports"]} ({len(reports)})</h2><div class="reports">{"".join(cards)}</div>')
    return _page(f'{t["incident"]}: {name}', body, lang)


# -- charts -------------------------------------------------------------------------------------------------
def chart_counts(conn: sqlite3.Connection, kind: str, lang: str = "en") -> list[tuple[str, int]]:
    if kind == "month":
        rows = conn.execute("SELECT month, COUNT(*) FROM v_incidents WHERE month IS NOT NULL GROUP BY month "
                            "ORDER BY month").fetchall()
        return [(m, n) for m, n in rows]
    view = {"data_type": ("v_incident_data_types", "data_type"), "authority": ("v_incident_agencies", "agency")}[kind]
    rows = conn.execute(f"SELECT code, COUNT(DISTINCT incident_id) AS n FROM {view[0]} GROUP BY code "
                        "ORDER BY n DESC, code").fetchall()
    return [(label(view[1], c, lang), n) for c, n in rows]


def _short(text: str, n: int = 38) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def chart_svg(conn: sqlite3.Connection, kind: str, lang: str = "en") -> str:
    """A horizontal bar chart (one bar per month, data type or authority) as standalone SVG."""
    t = ui.texts(lang, "page")
    title = t[CHARTS[kind]]
    data = chart_counts(conn, kind, lang)
    bar_h, left, width = 22, 260, 640
    top = max((n for _, n in data), default=1) or 1
    h = 40 + bar_h * max(len(data), 1)
    bars = []
    for i, (name, n) in enumerate(data):
        y = 30 + i * bar_h
        w = max(1.0, (width - left - 50) * n / top)
        bars.append(f'<g class="bar"><text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end">'
                    f'{escape(_short(str(name)))}</text><rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" '
                    f'fill="#1a5fb4"><title>{escape(str(name))}: {n}</title></rect>'
                    f'<text x="{left + w + 4:.1f}" y="{y + 15}" font-size="12">{n}</text></g>')
    return (f'<svg class="chart chart-{kind}" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
            f'viewBox="0 0 {width} {h}" role="img" aria-label="{escape(title)}"><text x="4" y="18" font-size="14" '
            f'font-weight="bold">{escape(title)}</text>{"".join(bars)}</svg>')


def charts_html(conn: sqlite3.Connection, lang: str = "en") -> str:
    t = ui.texts(lang, "page")
    body = f'<h1>{t["charts"]}</h1>' + "".join(f'<figure>{chart_svg(conn, k, lang)}</figure>' for k in CHARTS)
    return _page(t["charts"], body, lang)


def not_found_html(lang: str) -> str:
    title = ui.texts(lang, "page")["not_found"]
    return _page(title, f"<h1>{title}</h1>", lang)
