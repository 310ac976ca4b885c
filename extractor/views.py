"""Schema version 3: a store people can query with plain SQL, datasette or any SQLite tool.

``migrate_v3(conn)`` is the third step of ``extractor.store.MIGRATIONS``. It adds:

- flat views over the JSON blobs: ``v_incidents``, ``v_reports``, ``v_incident_data_types``,
  ``v_incident_agencies`` (one row per incident and code, for faceting);
- ``codes``: the French and English label and a one-line description of every data-type and agency code
  (from ``resources/shared/codes.json`` and ``resources/shared/agencies.jsonl``);
- ``documents_fts``: FTS5 over document titles and texts, accents folded, kept in step by triggers;
- an index on every foreign-key column;
- ``alerts`` and ``alert_deliveries`` (``incidents alert``);
- ``PRAGMA user_version`` = the schema version.

See docs/VIEW.md.
"""

from __future__ import annotations

import json
import sqlite3
from functools import lru_cache
from pathlib import Path

RESOURCES = Path(__file__).parent / "resources" / "shared"

VIEWS_SQL = [
    # one row per incident x data type / agency: the facets
    """CREATE VIEW v_incident_data_types AS
       SELECT i.id AS incident_id, json_extract(j.value, '$.code') AS code,
              c.label_fr, c.label_en, json_extract(i.best_json, '$.organization.name') AS organization,
              substr(i.first_seen, 1, 7) AS month
       FROM incidents i, json_each(i.best_json, '$.data_types') j
       LEFT JOIN codes c ON c.kind = 'data_type' AND c.code = json_extract(j.value, '$.code')""",
    """CREATE VIEW v_incident_agencies AS
       SELECT i.id AS incident_id, json_extract(j.value, '$.code') AS code, json_extract(j.value, '$.role') AS role,
              c.label_fr, c.label_en, json_extract(i.best_json, '$.organization.name') AS organization,
              substr(i.first_seen, 1, 7) AS month
       FROM incidents i, json_each(i.best_json, '$.agencies') j
       LEFT JOIN codes c ON c.kind = 'agency' AND c.code = json_extract(j.value, '$.code')""",
    """CREATE VIEW v_incidents AS
       SELECT i.id AS id,
              json_extract(i.best_json, '$.organization.name') AS organization,
              json_extract(i.best_json, '$.organization.acronym') AS acronym,
              json_extract(i.best_json, '$.victims.count') AS victims,
              json_extract(i.best_json, '$.victims.qualifier') AS victims_qualifier,
              json_extract(i.best_json, '$.victims.unit') AS victims_unit,
              json_extract(i.best_json, '$.dates.incident.date') AS date_incident,
              json_extract(i.best_json, '$.dates.discovered.date') AS date_discovered,
              json_extract(i.best_json, '$.dates.contained.date') AS date_contained,
              json_extract(i.best_json, '$.dates.disclosed.date') AS date_disclosed,
              i.first_seen, i.last_seen, substr(i.first_seen, 1, 7) AS month,
              (SELECT group_concat(lang, ', ') FROM (SELECT DISTINCT d.language AS lang FROM incident_reports ir
                 JOIN reports r ON r.id = ir.report_id JOIN documents d ON d.id = r.document_id
                 WHERE ir.incident_id = i.id AND d.language IS NOT NULL ORDER BY d.language)) AS languages,
              (SELECT COUNT(*) FROM incident_reports ir WHERE ir.incident_id = i.id) AS report_count,
              (SELECT group_concat(code, ', ') FROM v_incident_data_types t WHERE t.incident_id = i.id) AS data_types,
              (SELECT group_concat(COALESCE(label_en, code), ', ') FROM v_incident_data_types t
                 WHERE t.incident_id = i.id) AS data_types_en,
              (SELECT group_concat(COALESCE(label_fr, code), ', ') FROM v_incident_data_types t
                 WHERE t.incident_id = i.id) AS data_types_fr,
              (SELECT group_concat(code, ', ') FROM v_incident_agencies a WHERE a.incident_id = i.id) AS agencies,
              (SELECT group_concat(COALESCE(label_en, code), ', ') FROM v_incident_agencies a
                 WHERE a.incident_id = i.id) AS agencies_en,
              (SELECT group_concat(COALESCE(label_fr, code), ', ') FROM v_incident_agencies a
                 WHERE a.incident_id = i.id) AS agencies_fr,
              (SELECT json_group_array(code) FROM v_incident_data_types t WHERE t.incident_id = i.id) AS data_type_codes,
              (SELECT json_group_array(code) FROM v_incident_agencies a WHERE a.incident_id = i.id) AS agency_codes,
              (SELECT json_group_array(lang) FROM (SELECT DISTINCT d.language AS lang FROM incident_reports ir
                 JOIN reports r ON r.id = ir.report_id JOIN documents d ON d.id = r.document_id
                 WHERE ir.incident_id = i.id AND d.language IS NOT NULL ORDER BY d.language)) AS language_codes,
              (SELECT json_group_array(kind) FROM (SELECT DISTINCT json_extract(r.record_json, '$.source.kind') AS kind
                 FROM incident_reports ir JOIN reports r ON r.id = ir.report_id WHERE ir.incident_id = i.id
                 AND kind IS NOT NULL ORDER BY kind)) AS source_kinds,
              i.created_at, i.updated_at
       FROM incidents i""",
    """CREATE VIEW v_reports AS
       SELECT r.id AS report_id, r.source_id, ir.incident_id, r.is_incident,
              d.title, d.url, d.publisher, json_extract(r.record_json, '$.source.kind') AS source_kind,
              d.language, d.published, substr(d.published, 1, 7) AS month,
              json_extract(r.record_json, '$.organization.name') AS organization,
              json_extract(r.record_json, '$.victims.count') AS victims,
              json_extract(r.record_json, '$.victims.qualifier') AS victims_qualifier,
              r.document_id, r.created_at
       FROM reports r JOIN documents d ON d.id = r.document_id
       LEFT JOIN incident_reports ir ON ir.report_id = r.id""",
]

FTS_SQL = [
    """CREATE VIRTUAL TABLE documents_fts USING fts5(title, text, content='documents', content_rowid='id',
       tokenize="unicode61 remove_diacritics 2")""",
    """CREATE TRIGGER documents_fts_ai AFTER INSERT ON documents BEGIN
         INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END""",
    """CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN
         INSERT INTO documents_fts(documents_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); END""",
    """CREATE TRIGGER documents_fts_au AFTER UPDATE OF title, text ON documents BEGIN
         INSERT INTO documents_fts(documents_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
         INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END""",
    "INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')",
]

TABLES_SQL = [
    """CREATE TABLE codes (kind TEXT NOT NULL, code TEXT NOT NULL, label_fr TEXT NOT NULL, label_en TEXT NOT NULL,
       description_fr TEXT NOT NULL, description_en TEXT NOT NULL, PRIMARY KEY (kind, code))""",
    """CREATE TABLE alerts (
         id INTEGER PRIMARY KEY,
         webhook TEXT NOT NULL,
         filter_json TEXT NOT NULL,          -- {"organization", "data_type", "authority", "min_victims", "language"}
         created_at TEXT NOT NULL,
         since TEXT                          -- only incidents updated at or after this time are sent
       )""",
    """CREATE TABLE alert_deliveries (
         id INTEGER PRIMARY KEY,
         alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
         incident_id TEXT NOT NULL,
         revision TEXT NOT NULL,             -- the incident's updated_at when it was queued
         kind TEXT NOT NULL,                 -- new | revised
         payload_json TEXT NOT NULL,
         status TEXT NOT NULL DEFAULT 'pending', -- pending | sent
         attempts INTEGER NOT NULL DEFAULT 0,
         next_attempt TEXT, last_error TEXT, sent_at TEXT,
         UNIQUE (alert_id, incident_id, revision)
       )""",
]

# Every foreign-key column without an index yet (a UNIQUE or leading PRIMARY KEY column already has one).
INDEXES_SQL = [
    "CREATE INDEX IF NOT EXISTS items_feed_id ON items(feed_id)",
    "CREATE INDEX IF NOT EXISTS documents_item_id ON documents(item_id)",
    "CREATE INDEX IF NOT EXISTS incident_reports_incident ON incident_reports(incident_id)",
    "CREATE INDEX IF NOT EXISTS timeline_incident ON timeline(incident_id)",
    "CREATE INDEX IF NOT EXISTS timeline_report ON timeline(report_id)",
    "CREATE INDEX IF NOT EXISTS embeddings_report ON embeddings(report_id)",
    "CREATE INDEX IF NOT EXISTS alert_deliveries_alert ON alert_deliveries(alert_id)",
    "CREATE INDEX IF NOT EXISTS alert_deliveries_pending ON alert_deliveries(status, next_attempt)",
]


@lru_cache(maxsize=1)
def code_rows() -> tuple[tuple[str, str, str, str, str, str], ...]:
    """(kind, code, label_fr, label_en, description_fr, description_en) for every data-type and agency code."""
    from .record import AGENCY_CODES, DATA_TYPE_CODES

    data = json.loads((RESOURCES / "codes.json").read_text(encoding="utf-8"))
    names = {}
    for line in (RESOURCES / "agencies.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            a = json.loads(line)
            names[a["code"]] = (a.get("fr") or [a["code"]])[0], (a.get("en") or [a["code"]])[0]
    rows = []
    for kind, codes in (("data_type", DATA_TYPE_CODES), ("agency", AGENCY_CODES)):
        for code in codes:
            entry = data[kind][code]  # a code without an entry is a bug caught by tests/test_views.py
            fr = entry.get("fr") or names.get(code, (code, code))[0]
            en = entry.get("en") or names.get(code, (code, code))[1]
            rows.append((kind, code, fr, en, entry["description_fr"], entry["description_en"]))
    return tuple(rows)


def label(kind: str, code: str, lang: str = "en") -> str:
    for k, c, fr, en, _dfr, _den in code_rows():
        if k == kind and c == code:
            return fr if lang == "fr" else en
    return code


def migrate_v3(conn: sqlite3.Connection) -> None:
    """Version 2 -> 3 (inside the store's migration transaction)."""
    for statement in TABLES_SQL + VIEWS_SQL + FTS_SQL + INDEXES_SQL:
        conn.execute(statement)
    conn.executemany("INSERT INTO codes VALUES (?,?,?,?,?,?)", code_rows())
    set_user_version(conn)


def set_user_version(conn: sqlite3.Connection) -> None:
    """``PRAGMA user_version`` = the version this migration step leads to (meta.schema_version + 1)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    conn.execute(f"PRAGMA user_version = {int(row[0]) + 1 if row else 1}")


def fts_query(words: str) -> str:
    """A safe FTS5 MATCH expression for user words: each word quoted (no FTS syntax from the user)."""
    terms = ['"' + w.replace('"', '""') + '"' for w in words.split() if w.strip()]
    return " ".join(terms) or '""'
