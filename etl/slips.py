"""Evaluation slips (民主测评码) written out once, at issue time: a CSV, or a printable A4 HTML page of
slips, each with its code and a QR code (SVG, drawn here by the ``qrcode`` package: nothing is
fetched) that opens the public evaluation page.

A slip names no household (:class:`governance.evaluation.Slip`): it is handed to one household of
its grid, and which one is recorded nowhere. The codes exist only in what these functions write
(the database keeps keyed hashes): the file is the one copy, to be printed and then destroyed.
"""

from __future__ import annotations

import csv
import html
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from governance.evaluation import Slip
from i18n import translate

__all__ = ["SLIP_COLUMNS", "check_slips_path", "slip_url", "qr_svg", "write_slips_csv", "slips_html", "write_slips"]

#: The columns of the CSV, in order.
SLIP_COLUMNS = ("grid_code", "number", "count", "code", "expires_on", "url")


def slip_url(base_url: str, round_id: int, code: str) -> str:
    """The page a slip's QR code opens: ``{base_url}/public/evaluate?round=ID&code=XXXX-…``."""
    from governance.evaluation import evaluation_url

    return evaluation_url(f"{base_url.rstrip('/')}/public/evaluate?round={int(round_id)}", code)


def qr_svg(data: str, *, size_mm: float = 30.0) -> str:
    """``data`` as a QR code: an inline ``<svg>`` (error correction M) about ``size_mm`` wide."""
    import qrcode
    import qrcode.image.svg

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2,
                         image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(data)
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    # a fixed printed size, whatever the version of the code
    start = svg.index("<svg")
    head_end = svg.index(">", start)
    head = svg[start:head_end]
    head = re.sub(r'\swidth="[^"]*"', f' width="{size_mm:g}mm"', head)
    head = re.sub(r'\sheight="[^"]*"', f' height="{size_mm:g}mm"', head)
    return head + svg[head_end:]


def write_slips_csv(slips: Sequence[Slip], path: Path, url_of: Callable[[Slip], str]) -> Path:
    """The slips as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese right)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SLIP_COLUMNS)
        for slip in slips:
            # every value is a code, a number, a date or a URL: none can start a spreadsheet formula
            writer.writerow((slip.grid_code, slip.number, slip.count, slip.code, slip.expires_on.isoformat(), url_of(slip)))
    return path


def slips_html(slips: Sequence[Slip], url_of: Callable[[Slip], str], *, title: str,
               grid_names: dict[str, str] | None = None, language: str = "zh") -> str:
    """A printable A4 page of slips (eight to a page), each with the round's title, the grid, the
    code, the last day it can be used and a QR code to the page; user text escaped."""
    names = grid_names or {}

    def one(slip: Slip) -> str:
        url = url_of(slip)
        grid = names.get(slip.grid_code) or slip.grid_code
        return f"""<div class="slip">
<div class="qr">{qr_svg(url)}</div>
<div class="text">
<h2>{html.escape(title)}</h2>
<p>{html.escape(translate("slip.grid", language, grid=grid))}</p>
<p class="code">{html.escape(slip.code)}</p>
<p>{html.escape(translate("slip.expires", language, day=slip.expires_on.isoformat()))}</p>
<p class="how">{html.escape(translate("slip.how", language))}</p>
<p class="url">{html.escape(url)}</p>
<p class="no">{html.escape(translate("slip.number", language, number=slip.number, count=slip.count))}</p>
</div></div>"""

    body = "\n".join(one(s) for s in slips)
    return f"""<!doctype html>
<html lang="{'zh-CN' if language == 'zh' else 'en'}"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
@page {{ size: A4; margin: 10mm; }}
body {{ font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; margin: 0; }}
.slip {{ display: flex; gap: 4mm; border: 1px dashed #888; padding: 4mm; height: 62mm; box-sizing: border-box;
         page-break-inside: avoid; break-inside: avoid; }}
.text h2 {{ font-size: 13pt; margin: 0 0 2mm; }}
.text p {{ margin: 0 0 1.5mm; font-size: 10pt; }}
.code {{ font: bold 16pt monospace; letter-spacing: 1px; }}
.url {{ font-size: 7pt; color: #555; word-break: break-all; }}
.no {{ font-size: 8pt; color: #555; }}
</style></head><body>
{body}
</body></html>
"""


def check_slips_path(path: Path) -> Path:
    """Refuse (before any code is issued) an output path that is not ``.csv`` or ``.html``."""
    from gis.errors import ValidationError

    if path.suffix.lower() not in (".csv", ".html", ".htm"):
        raise ValidationError(f"--out {path} is expected to end in .csv or .html (printable slips with QR codes)",
                              code="evaluation.slips_format", params={"path": str(path)})
    return path


def write_slips(slips: Sequence[Slip], path: Path, url_of: Callable[[Slip], str], *, title: str,
                grid_names: dict[str, str] | None = None, language: str = "zh") -> Path:
    """Write the slips to ``path``: ``.csv`` or ``.html`` (by its suffix, :func:`check_slips_path`)."""
    if check_slips_path(path).suffix.lower() == ".csv":
        return write_slips_csv(slips, path, url_of)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(slips_html(slips, url_of, title=title, grid_names=grid_names, language=language), encoding="utf-8")
    return path
