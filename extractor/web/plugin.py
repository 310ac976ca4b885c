"""The datasette plugin of `incidents serve`: the incident page, the charts, the Atom feed, links to incidents.

Routes: ``/-/incident/<id>``, ``/-/charts``, ``/-/chart/<month|data_type|authority>.svg``, ``/-/feed.atom``.
Each accepts ``?lang=fr|en`` (default: ``serve --lang``).
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from . import feed, pages, ui

_INCIDENT_COLUMNS = {"id", "incident_id"}
_INCIDENT_TABLES = {"v_incidents", "incidents", "v_reports", "v_incident_data_types", "v_incident_agencies",
                    "incident_reports", "timeline", None}


def _conf(datasette) -> dict:
    return datasette.plugin_config("incidents-web") or {}


def _lang(datasette, request) -> str:
    return ui.or_default(request.args.get("lang") or _conf(datasette).get("lang"))


def _db(datasette):
    name = _conf(datasette).get("database")
    return datasette.get_database(name) if name else datasette.get_database()


async def incident_view(datasette, request):
    lang, iid = _lang(datasette, request), request.url_vars["incident_id"]
    html = await _db(datasette).execute_fn(lambda conn: pages.incident_html(conn, iid, lang))
    if html is None:
        return Response.html(pages.not_found_html(lang), status=404)
    return Response.html(html)


async def charts_view(datasette, request):
    lang = _lang(datasette, request)
    return Response.html(await _db(datasette).execute_fn(lambda conn: pages.charts_html(conn, lang)))


async def chart_view(datasette, request):
    lang, kind = _lang(datasette, request), request.url_vars["kind"]
    svg = await _db(datasette).execute_fn(lambda conn: pages.chart_svg(conn, kind, lang))
    return Response(svg, content_type="image/svg+xml; charset=utf-8")


async def feed_view(datasette, request):
    lang = _lang(datasette, request)
    base = f"{request.scheme}://{request.host}"
    body = await _db(datasette).execute_fn(lambda conn: feed.atom(conn, lang, base))
    return Response(body.decode("utf-8"), content_type="application/atom+xml; charset=utf-8")


@hookimpl
def register_routes():
    return [
        (r"^/-/incident/(?P<incident_id>[A-Za-z0-9_.:-]+)$", incident_view),
        (r"^/-/charts$", charts_view),
        (r"^/-/chart/(?P<kind>month|data_type|authority)\.svg$", chart_view),
        (r"^/-/feed\.atom$", feed_view),
    ]


@hookimpl
def render_cell(value, column, table):
    if column in _INCIDENT_COLUMNS and table in _INCIDENT_TABLES and isinstance(value, str) \
            and value.startswith("inc-"):
        return Markup(f'<a class="incident-link" href="/-/incident/{escape(value)}">{escape(value)}</a>')
    return None


@hookimpl
def menu_links(datasette):
    return [{"href": "/-/charts", "label": "Charts / Graphiques"}, {"href": "/-/feed.atom", "label": "Atom"}]
