"""`incidents serve`: the store in datasette, read-only, with generated metadata and our own pages (plugin.py).

``build_datasette(db, lang)`` returns a configured ``datasette.app.Datasette``; ``serve(...)`` runs it with uvicorn.
datasette is an optional dependency (``pip install 'incidents-extractor[web]'``).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from . import ui

HIDDEN = ["meta", "embeddings", "alerts", "alert_deliveries", "incident_keys", "feeds", "items"]


def metadata(db_name: str, lang: str = "en") -> dict:
    """datasette metadata: titles and descriptions in ``lang`` (and the other languages' below), facets, queries."""
    t = ui.texts(lang, "serve")
    others = [ui.texts(o, "serve") for o in ui.languages() if o != lang]
    cols = (f"id, organization, acronym, victims, victims_qualifier, data_types_{lang} AS data_types, "
            f"agencies_{lang} AS agencies, first_seen, last_seen, languages, report_count")

    def table(name: str, **extra) -> dict:
        return {"title": t[name][0], "description": " — ".join(x[name][1] for x in [t, *others]), **extra}

    tables = {
        "v_incidents": table("v_incidents", sort_desc="first_seen", facets=[
            "organization", {"array": "data_type_codes"}, {"array": "agency_codes"}, {"array": "language_codes"},
            "month", {"array": "source_kinds"}]),
        "v_reports": table("v_reports", sort_desc="published",
                           facets=["organization", "language", "month", "source_kind"]),
        "v_incident_data_types": table("v_incident_data_types", facets=["code", "month"]),
        "v_incident_agencies": table("v_incident_agencies", facets=["code", "role", "month"]),
        "documents": table("documents", fts_table="documents_fts", fts_pk="id", sort_desc="published",
                           facets=["language", "publisher"]),
        "codes": table("codes", facets=["kind"]),
    }
    for name in HIDDEN:
        tables[name] = {"hidden": True}
    queries = {
        "latest_incidents": {"title": t["latest"], "sql": f"SELECT {cols} FROM v_incidents "
                                                          "ORDER BY first_seen DESC, id LIMIT 100"},
        "largest_by_victims": {"title": t["largest"], "sql": f"SELECT {cols} FROM v_incidents WHERE victims IS NOT "
                                                              "NULL ORDER BY victims DESC, id LIMIT 100"},
        "told_cai_or_opc": {"title": t["cai_opc"], "sql": (
            f"SELECT {cols} FROM v_incidents WHERE id IN (SELECT incident_id FROM v_incident_agencies "
            "WHERE code IN ('CAI', 'OPC')) ORDER BY first_seen DESC, id")},
        "counts_revised_upward": {"title": t["revised"], "sql": (
            "SELECT t.incident_id, i.organization, t.at, json_extract(t.detail_json, '$.from') AS from_count, "
            "json_extract(t.detail_json, '$.to') AS to_count FROM timeline t JOIN v_incidents i ON i.id = t.incident_id "
            "WHERE t.kind = 'count_revised' AND json_extract(t.detail_json, '$.from') IS NOT NULL "
            "AND json_extract(t.detail_json, '$.to') > json_extract(t.detail_json, '$.from') ORDER BY t.at DESC")},
        "reports_not_attached": {"title": t["unattached"], "sql": (
            "SELECT report_id, source_id, is_incident, title, url, language, published FROM v_reports "
            "WHERE incident_id IS NULL ORDER BY published DESC")},
        "search_documents": {"title": t["search"], "sql": (
            "SELECT d.id, d.title, d.language, d.published, snippet(documents_fts, 1, '[', ']', '…', 16) AS extract "
            "FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid WHERE documents_fts MATCH :q "
            "ORDER BY rank LIMIT 100")},
    }
    links = '<a href="/-/charts">{0}</a> · <a href="/-/feed.atom">Atom</a>'.format(t["links"].split(" · ")[0])
    return {
        "title": t["title"],
        "description_html": ("".join(f"<p>{x['description']}</p>" for x in [t, *others]) + f"<p>{links}</p>"
                             f'<p><img src="/-/chart/month.svg?lang={lang}" alt="{t["links"].split(" · ")[0]}"></p>'),
        "plugins": {"incidents-web": {"lang": lang, "database": db_name}},
        "databases": {db_name: {"title": t["title"], "description": " — ".join(x["description"] for x in [t, *others]),
                                "tables": tables, "queries": queries}},
    }


def build_datasette(db: Path, lang: str = "en"):
    try:
        from datasette.app import Datasette
        from datasette.plugins import pm
    except ImportError:
        raise InputError("`incidents serve` needs datasette: pip install 'incidents-extractor[web]'") from None
    from . import plugin
    from ..store import Store

    ui.checked(lang)
    db = Path(db)
    Store(db, create=False, readonly=True).close()  # one clear line for a missing, foreign, old or newer file
    if not pm.is_registered(plugin):
        pm.register(plugin, name="incidents-web")
    # Immutable (no lock, no -shm, every page cached) when no writer is open; with a -wal file (an ingest is
    # running) read-only mode instead, so that the view sees each commit. datasette writes to neither.
    live = db.with_name(db.name + "-wal").exists()
    files = {"files": [str(db)]} if live else {"immutables": [str(db)]}
    return Datasette(**files, metadata=metadata(db.stem, lang),
                     settings={"default_page_size": 50, "sql_time_limit_ms": 3000, "facet_time_limit_ms": 500})


def serve(db: Path, host: str = "127.0.0.1", port: int = 8001, lang: str = "en") -> None:
    import uvicorn

    ds = build_datasette(db, lang)
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning")
