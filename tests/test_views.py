"""Schema version 3 (extractor/views.py): flat views, codes, FTS with accents folded, FK indexes, user_version."""

from __future__ import annotations

import sqlite3

from extractor import merge
from extractor.record import AGENCY_CODES, DATA_TYPE_CODES
from extractor.store import MIGRATIONS, Store
from extractor.views import code_rows, fts_query

FR_TEXT = ("La Société fictive Bélair annonce une fuite : 1 200 clients touchés. Les numéros d'assurance sociale "
           "et les adresses ont été exposés. La Commission d'accès à l'information a été avisée.")
EN_TEXT = ("Belair Fictional Company reports a breach affecting about 1,500 customers. Social insurance numbers "
           "were exposed. The Office of the Privacy Commissioner of Canada was notified.")


def _ev(text: str, piece: str) -> dict:
    start = text.index(piece)
    return {"text": piece, "start": start, "end": start + len(piece)}


def make_record(sid: str, text: str, lang: str, published: str, *, org: str, org_piece: str, count: int,
                count_piece: str, data_types: list[tuple[str, str]], agencies: list[tuple[str, str]],
                qualifier: str = "exact", title: str = "") -> dict:
    return {
        "schema_version": "1.0.0",
        "source": {"id": sid, "url": f"https://example.org/{sid}", "title": title or text[:60], "publisher": "Exemple",
                   "language": lang, "published": published, "published_precision": "day", "kind": "news"},
        "is_incident": True, "relevance": 0.99,
        "organization": {"name": org, "acronym": None, "aliases": [], "evidence": _ev(text, org_piece)},
        "victims": {"count": count, "qualifier": qualifier, "unit": "customers", "evidence": _ev(text, count_piece)},
        "data_types": [{"code": c, "evidence": _ev(text, p)} for c, p in data_types],
        "dates": {"incident": None, "discovered": None, "contained": None, "disclosed": None},
        "agencies": [{"code": c, "name": p, "role": "notified", "evidence": _ev(text, p)} for c, p in agencies],
    }


def fr_record(sid="fr-belair", count=1200, published="2025-03-04"):
    return make_record(sid, FR_TEXT, "fr", published, org="Société fictive Bélair", org_piece="Société fictive Bélair",
                       count=count, count_piece="1 200 clients",
                       data_types=[("sin", "numéros d'assurance sociale"), ("address", "adresses")],
                       agencies=[("CAI", "Commission d'accès à l'information")])


def en_record(sid="en-belair", count=1500, published="2025-03-06"):
    return make_record(sid, EN_TEXT, "en", published, org="Société fictive Bélair", org_piece="Belair Fictional Company",
                       count=count, count_piece="about 1,500 customers", qualifier="approx",
                       data_types=[("sin", "Social insurance numbers")],
                       agencies=[("OPC", "Office of the Privacy Commissioner of Canada")])


def fill(db, records=None) -> None:
    with Store(db) as store:
        with store.transaction() as conn:
            for rec, text in records or [(fr_record(), FR_TEXT), (en_record(), EN_TEXT)]:
                merge.add_report(conn, rec, text)


def test_codes_cover_every_code_in_both_languages():
    rows = code_rows()
    assert {c for k, c, *_ in rows if k == "data_type"} == set(DATA_TYPE_CODES)
    assert {c for k, c, *_ in rows if k == "agency"} == set(AGENCY_CODES)
    for row in rows:
        assert all(isinstance(v, str) and v.strip() for v in row), row
        assert "\n" not in row[4] + row[5]


def test_views_fts_indexes_and_user_version(tmp_path):
    db = tmp_path / "v.db"
    fill(db)
    with Store(db) as store:
        c = store.conn
        assert c.execute("PRAGMA user_version").fetchone()[0] == store.schema_version == len(MIGRATIONS)
        incs = [dict(r) for r in c.execute("SELECT * FROM v_incidents")]
        assert len(incs) == 1, incs
        inc = incs[0]
        assert inc["report_count"] == 2 and inc["languages"] == "en, fr"
        assert inc["victims"] in (1200, 1500) and inc["organization"]
        assert set(inc["data_types"].split(", ")) == {"sin", "address"}
        assert "NAS" in inc["data_types_fr"] and "SIN" in inc["data_types_en"]
        assert set(inc["agencies"].split(", ")) == {"CAI", "OPC"}
        rows = c.execute("SELECT code FROM v_incident_agencies WHERE incident_id=?", (inc["id"],)).fetchall()
        assert sorted(r[0] for r in rows) == ["CAI", "OPC"]
        reps = {r["language"]: dict(r) for r in c.execute("SELECT * FROM v_reports")}
        assert reps["fr"]["incident_id"] == inc["id"] and reps["en"]["victims"] == 1500
        assert reps["fr"]["source_kind"] == "news" and reps["fr"]["month"] == "2025-03"
        # accents folded both ways: "societe" finds "Société", "fuité"... and "Bélair" finds "Belair"
        q = "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?"
        assert len(c.execute(q, (fts_query("societe"),)).fetchall()) == 1
        assert len(c.execute(q, (fts_query("Société"),)).fetchall()) == 1
        assert len(c.execute(q, (fts_query("bélair"),)).fetchall()) == 2
        # every foreign-key column has an index
        for (table,) in c.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE '%fts%'"):
            fks = {r[3] for r in c.execute(f"PRAGMA foreign_key_list({table})")}
            indexed = set()
            for idx in c.execute(f"PRAGMA index_list({table})"):
                first = c.execute(f"PRAGMA index_info({idx[1]})").fetchone()
                indexed.add(first[2])
            assert fks <= indexed, (table, fks - indexed)


def test_fts_follows_document_updates(tmp_path):
    db = tmp_path / "u.db"
    fill(db)
    with Store(db) as store:
        with store.transaction() as conn:
            conn.execute("UPDATE documents SET text = 'un texte tout neuf sur Gaspé' WHERE source_id='fr-belair'")
        q = "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?"
        assert len(store.conn.execute(q, (fts_query("gaspe"),)).fetchall()) == 1
        assert len(store.conn.execute(q, (fts_query("adresses"),)).fetchall()) == 0


def test_a_version_2_file_is_migrated_with_its_documents_indexed(tmp_path, monkeypatch):
    import extractor.store as store_mod

    db = tmp_path / "v2.db"
    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS[:2])
    fill(db)
    with sqlite3.connect(db) as c:
        assert "documents_fts" not in {r[0] for r in c.execute("SELECT name FROM sqlite_master")}
    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS)
    with Store(db) as store:
        assert store.schema_version == len(MIGRATIONS)
        hits = store.conn.execute("SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?",
                                  (fts_query("privacy"),)).fetchall()
        assert len(hits) == 1
