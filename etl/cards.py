"""The public contact card (公示卡) of a grid, printed: an A4 HTML page, or a PNG/PDF sketch with its outline.

Built from :class:`governance.cards.GridCard` (the grid's team and the leaders above it). Staff
phones are work numbers and are printed in full; user text is escaped. Chinese text in PNG/PDF
needs the CJK font (:mod:`gis.fonts`); the outline is drawn in its Gauss-Krüger zone (true shape).
"""

from __future__ import annotations

import html
from typing import Any

from gis.sketch import render_sketch
from governance.cards import GridCard
from i18n import translate

__all__ = ["contact_card_html", "contact_card_image"]

def contact_card_html(card: GridCard, *, language: str = "zh") -> str:
    """A printable A4 HTML page for the card (user text escaped)."""
    zh = language == "zh"
    title = translate("contact.title", language)
    head = tuple(translate(f"contact.column.{c}", language) for c in ("role", "name", "phone", "grid"))
    path = " › ".join(html.escape(n or c) for c, n in card.parents)
    rows = "\n".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(e.role_label + (f" ({e.building_no})" if e.building_no else "")),
            html.escape(e.name),
            html.escape(e.phone),
            html.escape(e.grid_name or e.grid_code),
        )
        for e in card.contact_entries(language)
    )
    on = card.on.isoformat() if card.on else ""
    return f"""<!doctype html>
<html lang="{'zh-CN' if zh else 'en'}"><head><meta charset="utf-8">
<title>{title} {html.escape(card.code)}</title>
<style>
@page {{ size: A4; margin: 18mm; }}
body {{ font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; }}
h1 {{ font-size: 22pt; margin: 0 0 4pt 0; }}
.sub {{ color: #444; margin-bottom: 12pt; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14pt; }}
th, td {{ border: 1px solid #333; padding: 6pt 8pt; text-align: left; }}
th {{ background: #eee; }}
</style></head><body>
<h1>{title}: {html.escape(card.name)}</h1>
<div class="sub">{html.escape(card.code)}{' · ' + path if path else ''} · {on}</div>
<table><thead><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def contact_card_image(card: GridCard, geometry: Any, *, language: str = "zh", fmt: str = "png") -> bytes:
    """The card as a one-page PNG or PDF: the grid's outline (EPSG:4490 GeoSeries), its name and code, the team."""
    lines = [translate("contact.staff_line", language, role=e.role_label, name=e.name, phone=e.phone)
             for e in card.contact_entries(language)]
    return render_sketch(
        geometry, title=translate("contact.title", language),
        subtitle=f"{card.name} · " + translate("contact.code", language, code=card.code),
        lines=lines, footer=translate("contact.footer", language), fmt=fmt,
    )
