"""The SQL of the store's first schema versions (1: feeds, items, documents, reports, incidents; 2: aliases).

Applied in order by the migrations of :mod:`extractor.store`; version 3 is built by :mod:`extractor.views`.
Documented table by table in docs/STORE.md.
"""

SCHEMA_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE feeds (
  id INTEGER PRIMARY KEY,
  url TEXT NOT NULL UNIQUE,
  name TEXT, language TEXT,
  etag TEXT, last_modified TEXT,
  last_polled TEXT, last_status INTEGER, last_error TEXT,
  failures INTEGER NOT NULL DEFAULT 0,
  next_poll_after TEXT,
  retired INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE items (
  id INTEGER PRIMARY KEY,
  feed_id INTEGER REFERENCES feeds(id),
  guid TEXT NOT NULL,
  url TEXT, canonical_url TEXT,
  title TEXT, published TEXT,
  first_seen TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'new',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_retry TEXT, last_error TEXT,
  UNIQUE (feed_id, guid)
);
CREATE INDEX items_canonical ON items(canonical_url);

CREATE TABLE documents (
  id INTEGER PRIMARY KEY,
  source_id TEXT NOT NULL UNIQUE,
  item_id INTEGER REFERENCES items(id),
  url TEXT, canonical_url TEXT,
  title TEXT, publisher TEXT, published TEXT, language TEXT,
  text TEXT NOT NULL,
  html_sha256 TEXT,
  fetched_at TEXT NOT NULL
);

CREATE TABLE reports (
  id INTEGER PRIMARY KEY,
  document_id INTEGER NOT NULL UNIQUE REFERENCES documents(id),
  source_id TEXT NOT NULL,
  is_incident INTEGER NOT NULL,
  record_json TEXT NOT NULL,
  schema_version TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE incidents (
  id TEXT PRIMARY KEY,
  org_key TEXT,
  best_json TEXT NOT NULL,
  first_seen TEXT, last_seen TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX incidents_org_key ON incidents(org_key);
CREATE TABLE incident_keys (
  incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  PRIMARY KEY (incident_id, key)
);
CREATE INDEX incident_keys_key ON incident_keys(key);
CREATE TABLE incident_reports (
  incident_id TEXT NOT NULL REFERENCES incidents(id),
  report_id INTEGER NOT NULL UNIQUE REFERENCES reports(id),
  manual INTEGER NOT NULL DEFAULT 0,
  attached_at TEXT NOT NULL
);
CREATE TABLE timeline (
  id INTEGER PRIMARY KEY,
  incident_id TEXT NOT NULL REFERENCES incidents(id),
  at TEXT,
  kind TEXT NOT NULL,
  detail_json TEXT NOT NULL,
  report_id INTEGER REFERENCES reports(id)
);
CREATE TABLE embeddings (
  report_id INTEGER NOT NULL REFERENCES reports(id),
  backend TEXT NOT NULL,
  dim INTEGER NOT NULL,
  vector BLOB NOT NULL,
  PRIMARY KEY (report_id, backend)
);
"""

# Version 2: the former ids of incidents (an id moves when an earlier report arrives, or after a merge or a split).
SCHEMA_V2 = """
CREATE TABLE incident_aliases (
  old_id TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX incident_aliases_incident ON incident_aliases(incident_id);
CREATE INDEX documents_published ON documents(published);
"""

# Version 4: what an attach looks up, indexed (docs/STORE.md). A report's keyless candidates are found by an
# equal victim count or a close incident or discovery day (extractor/incident_component.py `keyless_neighbours`):
# expression indexes on those record fields, so the lookup reads the matching reports, not every report of the
# window. The expressions are the queries' own (SQLite uses an expression index only for the same expression).
COUNT_SQL = "json_extract(record_json, '$.victims.count')"
INCIDENT_DAY_SQL = "substr(json_extract(record_json, '$.dates.incident.date'), 1, 10)"
DISCOVERED_DAY_SQL = "substr(json_extract(record_json, '$.dates.discovered.date'), 1, 10)"
SCHEMA_V4 = f"""
CREATE INDEX reports_victims_count ON reports({COUNT_SQL});
CREATE INDEX reports_incident_day ON reports({INCIDENT_DAY_SQL});
CREATE INDEX reports_discovered_day ON reports({DISCOVERED_DAY_SQL});
"""
