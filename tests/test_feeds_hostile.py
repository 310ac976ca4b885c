"""parse_feed on hostile and ordinary feeds: no entity expansion, no file read, bounded work,
broken encodings and truncation tolerated, RSS/Atom/RDF/JSON in French and English."""

from __future__ import annotations

import gzip
import json

import pytest

try:
    from localserver import LocalServer
except ImportError:  # tests/ imported as a package
    from tests.localserver import LocalServer

from extractor.errors import FetchError
from extractor.feeds import MAX_ENTRIES, ParsedFeed, parse_feed, strip_doctype
from extractor.fetch import FetchSettings, fetch

FEED_URL = "https://www.example.ca/rss/cyber.xml"


def rss(items: list[tuple[str, str]] | int, *, lang="fr-CA", decl="utf-8", doctype="", encoding="utf-8",
        title="Nouvelles cybersécurité") -> bytes:
    if isinstance(items, int):
        items = [(f"Fuite de données numéro {i}", f"Une cyberattaque a touché l'organisme {i}.") for i in range(items)]
    body = "".join(
        f"<item><title>{t}</title><link>https://www.example.ca/n/{i}</link><guid isPermaLink=\"false\">id-{i}</guid>"
        f"<description>{d}</description><pubDate>Wed, 07 Aug 2024 14:30:00 -0400</pubDate></item>"
        for i, (t, d) in enumerate(items)
    )
    doc = (f'<?xml version="1.0" encoding="{decl}"?>\n{doctype}<rss version="2.0"><channel><title>{title}</title>'
           f"<link>https://www.example.ca/</link><language>{lang}</language>{body}</channel></rss>")
    return doc.encode(encoding)


def all_text(feed: ParsedFeed) -> str:
    return repr(feed)


# --------------------------------------------------------------------------- ordinary feeds, both languages


def test_rss2_french():
    feed = parse_feed(rss([("Cyberattaque : 5 000 dossiers exposés", "L'hôpital a confirmé la fuite.")]), FEED_URL)
    assert feed.bozo_reason is None and feed.title == "Nouvelles cybersécurité" and feed.language == "fr"
    assert feed.version == "rss20" and feed.entries_dropped == 0
    assert feed.entries == [{
        "guid": "id-0",
        "link": "https://www.example.ca/n/0",
        "title": "Cyberattaque : 5 000 dossiers exposés",
        "summary": "L'hôpital a confirmé la fuite.",
        "summary_text": "L'hôpital a confirmé la fuite.",
        "published": "2024-08-07",
        "published_at": "2024-08-07T18:30:00+00:00",
        "language": "fr",
    }]


def test_rss2_english_with_html_summary_and_relative_link():
    doc = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Breach news</title><language>en-us</language>'
           b'<item><title>Acme Corp discloses breach</title><link>/news/acme</link>'
           b'<description>&lt;p&gt;Names &amp;amp; SINs of &lt;b&gt;1.2 million&lt;/b&gt; people&lt;/p&gt;</description>'
           b'<pubDate>Thu, 01 Feb 2024 09:00:00 GMT</pubDate></item></channel></rss>')
    feed = parse_feed(doc, "https://news.example.com/feed.xml")
    (e,) = feed.entries
    assert e["link"] == "https://news.example.com/news/acme"
    assert e["guid"] == e["link"]  # no guid: the link stands in
    assert e["summary_text"] == "Names & SINs of 1.2 million people"
    assert (e["published"], e["language"], feed.language) == ("2024-02-01", "en", "en")


def test_atom_french_and_english():
    doc = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr"><title>Communiqués</title>
<entry><id>tag:example.ca,2024:1</id><title>Incident de confidentialité au CISSS</title>
<link rel="alternate" href="https://example.ca/c/1"/><updated>2024-08-07T10:00:00-04:00</updated>
<summary>Des renseignements personnels ont été consultés.</summary></entry>
<entry xml:lang="en"><id>tag:example.ca,2024:2</id><title>Privacy incident at the CISSS</title>
<link href="/c/2"/><published>2024-08-08T09:00:00Z</published>
<content type="html">&lt;p&gt;Personal information was accessed.&lt;/p&gt;</content></entry></feed>""".encode()
    feed = parse_feed(doc, "https://example.ca/atom")
    assert feed.version == "atom10" and feed.title == "Communiqués" and feed.bozo_reason is None
    fr, en = feed.entries
    assert (fr["guid"], fr["link"], fr["published"], fr["language"]) == ("tag:example.ca,2024:1", "https://example.ca/c/1", "2024-08-07", "fr")
    assert (en["guid"], en["link"], en["published"], en["language"]) == ("tag:example.ca,2024:2", "https://example.ca/c/2", "2024-08-08", "en")
    assert en["summary_text"] == "Personal information was accessed."


def test_rss1_rdf():
    doc = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><channel rdf:about="https://e.org/"><title>RDF</title><dc:language>en</dc:language></channel>
<item rdf:about="https://e.org/1"><title>One</title><link>https://e.org/1</link><dc:date>2024-03-04T05:06:07Z</dc:date></item>
<item rdf:about="https://e.org/2"><title>Two</title><link>https://e.org/2</link></item></rdf:RDF>"""
    feed = parse_feed(doc, "https://e.org/rdf")
    assert [e["title"] for e in feed.entries] == ["One", "Two"]
    assert feed.entries[0]["published"] == "2024-03-04" and feed.entries[1]["published"] is None


def test_json_feed_and_bad_json():
    doc = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J", "language": "fr-CA", "items": [
        {"id": "1", "url": "https://j.ca/1", "title": "Fuite", "content_text": "Texte", "date_published": "2024-08-07T23:30:00-04:00"},
        {"id": 2, "url": "javascript:alert(1)", "content_html": "<p>x</p>"}, "not an item"]}).encode()
    feed = parse_feed(doc, "https://j.ca/feed.json", content_type="application/feed+json")
    assert feed.version == "json1" and feed.language == "fr" and len(feed.entries) == 2
    assert feed.entries[0]["published"] == "2024-08-08" and feed.entries[0]["link"] == "https://j.ca/1"
    assert feed.entries[1]["link"] is None and feed.entries[1]["guid"] == "2"
    for bad in (b'{"items": ', b"{" * 100_000, b'{"items": 5}', b"[" * 200_000 + b"]" * 200_000):
        out = parse_feed(bad, "https://j.ca/x", content_type="application/json")
        assert out.entries == [] and out.bozo_reason


# --------------------------------------------------------------------------- entity attacks


def test_billion_laughs_does_not_expand():
    lol = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    doctype = "<!DOCTYPE rss [\n" + "\n".join(lol) + "\n]>\n"
    doc = rss([("&lol9;", "&lol9;&lol9;")], doctype=doctype)
    feed = parse_feed(doc, FEED_URL)
    assert "lollol" not in all_text(feed)
    assert len(feed.entries) == 1 and "DOCTYPE" in feed.bozo_reason


def test_quadratic_blowup_does_not_expand():
    doctype = '<!DOCTYPE rss [<!ENTITY big "' + "A" * 50_000 + '">]>'
    feed = parse_feed(rss([("&big;" * 5000, "x")], doctype=doctype), FEED_URL)
    assert "AAAA" not in all_text(feed)


def test_xxe_does_not_read_local_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER-7431")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY % f SYSTEM "file://{secret}"><!ENTITY leak "%f;">')
    attacks = [
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>',
        f'<!DOCTYPE rss SYSTEM "file://{dtd}">',
        f'<!DOCTYPE rss [<!ENTITY % ext SYSTEM "file://{dtd}"> %ext;]>',
        f'<!DOCTYPE rss PUBLIC "-//X//Y" "file://{secret}" [<!ENTITY x "]>">]>',
    ]
    for doctype in attacks:
        feed = parse_feed(rss([("&xxe; &leak;", "&xxe;")], doctype=doctype), FEED_URL)
        assert "TOP-SECRET-MARKER" not in all_text(feed)
        assert len(feed.entries) == 1
    # a feed whose whole content is a path or a URL is data, never opened
    for data in (str(secret).encode(), f"file://{secret}".encode(), b"http://127.0.0.1:1/feed"):
        feed = parse_feed(data, FEED_URL)
        assert "TOP-SECRET-MARKER" not in all_text(feed) and feed.entries == []


def test_strip_doctype_handles_tricky_declarations():
    text, n = strip_doctype('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "]>"><!-- ]> --><!ENTITY y \'>\'>]><a>&x;</a>')
    assert (text, n) == ('<?xml version="1.0"?><a>&x;</a>', 1)
    text, n = strip_doctype('<a><![CDATA[<!DOCTYPE kept>]]><!-- <!ENTITY kept2 "x"> --><!ENTITY stray "v"></a>')
    assert text == '<a><![CDATA[<!DOCTYPE kept>]]><!-- <!ENTITY kept2 "x"> --></a>' and n == 1
    assert strip_doctype("<!DOCTYPE unterminated [ <!ENTITY a 'b'")[0] == ""


def test_html_entities_without_a_dtd_are_decoded():
    feed = parse_feed(rss([("Sant&eacute; Qu&eacute;bec&nbsp;: fuite &amp; &unknown; &#233;t&#xE9;", "R &lt; 5")]), FEED_URL)
    assert feed.entries[0]["title"] == "Santé Québec\xa0: fuite & &unknown; été"


# --------------------------------------------------------------------------- size and count


def test_ten_thousand_items_keep_the_first_2000():
    feed = parse_feed(rss(10_000), FEED_URL)
    assert len(feed.entries) == MAX_ENTRIES == 2000 and feed.entries_dropped == 8000
    assert feed.entries[0]["title"] == "Fuite de données numéro 0"
    assert feed.entries[-1]["title"] == "Fuite de données numéro 1999"
    assert "8000 dropped" in feed.bozo_reason


def test_fifty_megabyte_feed_is_cut_when_parsed():
    doc = rss(1).replace(b"Une cyberattaque", b"<p>x</p>" * 6_500_000)  # one 52 MB item of markup
    assert len(doc) > 50_000_000
    feed = parse_feed(doc + rss(3), FEED_URL)
    assert feed.entries == [] and "truncated at 10000000 bytes" in feed.bozo_reason
    many = rss(120_000)  # ~25 MB of ordinary items
    feed = parse_feed(many, FEED_URL)
    assert len(feed.entries) == 2000 and "truncated" in feed.bozo_reason


def test_fifty_megabyte_feed_is_stopped_by_the_fetch_cap():
    doc = rss(1).replace(b"Une cyberattaque", b"x" * 50_000_000)
    with LocalServer({"/big.xml": (200, {"Content-Type": "application/rss+xml"}, doc),
                      "/big.gz": (200, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}, gzip.compress(doc, 6))}) as srv:
        s = FetchSettings(allow_private=True, per_host_delay=0)
        for path in ("/big.xml", "/big.gz"):
            with pytest.raises(FetchError, match="^page larger than 10000000 bytes"):
                fetch(srv.url(path), settings=s)


@pytest.mark.parametrize("desc", [
    "<p>x</p>" * 400_000,           # dense markup inside one item
    "<a>" * 300_000 + "</a>" * 300_000,  # deep nesting
    "<a>" * 300_000,                 # deep nesting, never closed
    "<" * 3_000_000,
    "&" * 3_000_000,
    "<![CDATA[" + "x" * 5_000_000 + "]]>",
])
def test_pathological_content_gives_a_bounded_result(desc):
    doc = rss([("ok", "first")]) .replace(b"</channel>", f"<item><title>bad</title><description>{desc}</description></item></channel>".encode())
    feed = parse_feed(doc, FEED_URL)
    assert feed.entries[0]["title"] == "ok"
    assert len(feed.entries) <= 2


def test_dense_header_before_any_item_is_bounded():
    doc = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><description>' + b"<b>x</b>" * 1_000_000 + b"</description></channel></rss>"
    feed = parse_feed(doc, FEED_URL)
    assert feed.entries == [] and feed.bozo_reason


# --------------------------------------------------------------------------- encodings


def test_invalid_utf8_is_tolerated():
    doc = rss([("Fuite de données", "ok"), ("Ligne cass\xe9e", "x"), ("Dernière", "y")])
    doc = doc.replace("Ligne cass\xe9e".encode(), b"Ligne cass\xe9e \xff\xfe")  # raw bytes invalid in UTF-8
    feed = parse_feed(doc, FEED_URL)
    titles = [e["title"] for e in feed.entries]
    assert titles[0] == "Fuite de données" and titles[2] == "Dernière"
    assert titles[1].startswith("Ligne cass") and "\ufffd" in titles[1]
    assert "invalid bytes" in feed.bozo_reason


def test_wrong_declared_charset():
    latin1_said_utf8 = rss([("Fuite de données à Montréal", "Hôpital")], decl="utf-8", encoding="latin-1")
    assert parse_feed(latin1_said_utf8, FEED_URL).entries[0]["title"] == "Fuite de données à Montréal"
    utf8_said_latin1 = rss([("Fuite de données à Montréal", "Hôpital")], decl="iso-8859-1", encoding="utf-8")
    assert parse_feed(utf8_said_latin1, FEED_URL).entries[0]["title"] == "Fuite de données à Montréal"
    cp1252_http_header = rss([("L’été € données", "x")], decl="windows-1252", encoding="cp1252")
    feed = parse_feed(cp1252_http_header, FEED_URL, content_type="application/rss+xml; charset=utf-8")
    assert feed.entries[0]["title"] == "L’été € données"
    utf16 = rss([("Données", "x")], decl="utf-16", encoding="utf-16")  # with a BOM
    assert parse_feed(utf16, FEED_URL).entries[0]["title"] == "Données"
    bogus = rss([("Données", "x")], decl="x-no-such-charset")
    assert parse_feed(bogus, FEED_URL).entries[0]["title"] == "Données"


def test_control_characters_and_nul_bytes():
    doc = rss([("Fuite\x00 de\x07 données\x1b", "a\x0bb")])
    feed = parse_feed(doc, FEED_URL)
    assert feed.entries[0]["title"] == "Fuite de données"


# --------------------------------------------------------------------------- broken documents


def test_truncated_feed_yields_the_entries_it_could():
    doc = rss(10)
    cut = doc[: doc.index(b"<item><title>Fuite de donn\xc3\xa9es num\xc3\xa9ro 6") + 50]
    feed = parse_feed(cut, FEED_URL)
    titles = [e["title"] for e in feed.entries]
    assert titles[:6] == [f"Fuite de données numéro {i}" for i in range(6)]
    assert feed.bozo_reason and "not well formed" in feed.bozo_reason
    assert feed.title == "Nouvelles cybersécurité"


def test_large_truncated_feed_is_repaired_cheaply():
    doc = rss(5000)[:-20_000]  # several MB, cut in the middle of an item
    feed = parse_feed(doc, FEED_URL)
    assert 1800 <= len(feed.entries) <= 2000
    assert feed.entries[0]["title"] == "Fuite de données numéro 0" and feed.bozo_reason


def test_javascript_and_data_links_are_dropped():
    doc = rss(2).replace(b"https://www.example.ca/n/0", b"javascript:alert(1)").replace(b"https://www.example.ca/n/1", b"data:text/html,x")
    feed = parse_feed(doc, FEED_URL)
    assert [e["link"] for e in feed.entries] == [None, None]
    assert [e["guid"] for e in feed.entries] == ["id-0", "id-1"]


@pytest.mark.parametrize("data", [b"", b"   ", b"\x00\x00", b"<html><body><p>Not a feed</p></body></html>", b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
                                  b"<rss><channel><item><title>a</title></item>", b"<?xml version='1.0'?>", b"<<<>>>&&&"])
def test_garbage_never_raises(data):
    feed = parse_feed(data, FEED_URL)
    assert isinstance(feed, ParsedFeed) and isinstance(feed.entries, list)
    if not feed.entries:
        assert feed.bozo_reason


def test_items_without_guid_or_link_get_a_stable_guid():
    doc = b'<rss version="2.0"><channel><item><title>Sans lien</title><description>x</description></item></channel></rss>'
    a = parse_feed(doc, FEED_URL).entries[0]["guid"]
    assert a.startswith("sha1:") and a == parse_feed(doc, FEED_URL).entries[0]["guid"]
