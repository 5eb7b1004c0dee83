"""Small SVG charts drawn on the server from a protected release: no script library, no
CDN, nothing but markup. A suppressed cell is drawn as a hatched stub labelled
"suppressed", never as a zero; a share is labelled as a percentage."""

from __future__ import annotations

from html import escape

WIDTH = 560
BAR = 22
SUPPRESSED = "suppressed"


def _label(cell: dict, unit: str = "") -> str:
    if cell["suppressed"]:
        return SUPPRESSED
    value = cell["value"]
    if value is None:
        return "–"
    return f"{round(value * 100, 1):g}%" if unit == "share" else f"{value:g}"


def columns(title: str, labels: list[str], cells: list[dict], unit: str = "") -> str:
    """A column chart over periods (a trend); a share (0 to 1) is shown in %."""
    height, top, bottom = 190, 36, 40
    values = [c["value"] or 0 for c in cells if not c["suppressed"]]
    peak = max(values, default=0) or 1
    step = (WIDTH - 40) / max(len(cells), 1)
    parts = []
    for i, (label, cell) in enumerate(zip(labels, cells, strict=True)):
        x = 30 + i * step
        w = max(step * 0.6, 4)
        if cell["suppressed"]:
            h = 12
            fill = 'fill="url(#hatch)" class="suppressed"'
        else:
            h = (cell["value"] or 0) / peak * (height - top - bottom)
            fill = 'fill="#2b6cb0" class="value"'
        y = height - bottom - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" {fill}>'
            f"<title>{escape(label)}: {escape(_label(cell, unit))}</title></rect>"
            f'<text x="{x + w / 2:.1f}" y="{y - 4:.1f}" class="num">'
            f"{escape(_label(cell, unit))}</text>"
            f'<text x="{x + w / 2:.1f}" y="{height - bottom + 14}" class="axis">'
            f"{escape(label)}</text>"
        )
    shown = "%" if unit == "share" else unit
    return _svg(title + (f" ({shown})" if shown else ""), height, "".join(parts))


def bars(title: str, labels: list[str], cells: list[dict]) -> str:
    """A horizontal bar chart over categories (a distribution)."""
    height = 30 + BAR * len(cells)
    values = [c["value"] or 0 for c in cells if not c["suppressed"]]
    peak = max(values, default=0) or 1
    parts = []
    for i, (label, cell) in enumerate(zip(labels, cells, strict=True)):
        y = 24 + i * BAR
        if cell["suppressed"]:
            w, fill = 40, 'fill="url(#hatch)" class="suppressed"'
        else:
            w, fill = (cell["value"] or 0) / peak * (WIDTH - 260), 'fill="#2f855a" class="value"'
        parts.append(
            f'<text x="180" y="{y + 15}" class="cat">{escape(label.replace("_", " "))}</text>'
            f'<rect x="190" y="{y + 3}" width="{w:.1f}" height="{BAR - 6}" {fill}>'
            f"<title>{escape(label)}: {escape(_label(cell))}</title></rect>"
            f'<text x="{196 + w:.1f}" y="{y + 15}" class="end">{escape(_label(cell))}</text>'
        )
    return _svg(title, height, "".join(parts))


def _svg(title: str, height: int, body: str) -> str:
    return (
        f'<figure><svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} '
        f'{height}" width="{WIDTH}" height="{height}"><title>{escape(title)}</title>'
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eee"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="3"/></pattern></defs>'
        f'<text x="4" y="14" class="title">{escape(title)}</text>{body}</svg></figure>'
    )


def dashboard(answer: dict) -> str:
    """The charts of a release, as an HTML fragment."""
    if answer["withheld"]:
        return f'<p class="withheld">{escape(answer["withheld"])}</p>'
    tables = {t["name"]: t for t in answer["tables"]}
    indicators = {i["name"]: i for i in answer["indicators"]}
    periods = answer["periods"]

    def totals_by_period(name: str) -> str:
        t = tables[name]
        return columns(t["title"] + ": all", periods, t["totals"])

    def totals_by_row(name: str) -> str:
        t = tables[name]
        return bars(t["title"], [r["key"] for r in t["rows"]], [r["total"] for r in t["rows"]])

    def indicator(name: str, unit: str) -> str:
        i = indicators[name]
        return columns(i["title"], periods, i["cells"], unit)

    return "".join(
        [
            totals_by_period("incidents"),
            totals_by_period("first_offers"),
            indicator("median_hours_to_first_contact", "hours"),
            indicator("share_first_contact_within_72h", "share"),
            totals_by_period("requests_made"),
            indicator("share_requests_acknowledged_within_deadline", "share"),
            indicator("median_minutes_to_acknowledge_request", "minutes"),
            totals_by_row("escalations"),
            totals_by_row("referrals"),
            totals_by_row("ratings"),
            indicator("share_would_recommend", "share"),
            totals_by_row("contacts_by_channel"),
        ]
    )
