"""The dashboard's charts, drawn on the server from a protected release as SVG in an HTML
fragment: no script library, no CDN, nothing but markup, styled by presentation
attributes (so it draws the same inside the portal's strict Content-Security-Policy).

What a chief reads first: whose figures (the agency's id or the region; Peerline keeps no
agency names) and which months, then a key. A suppressed cell is drawn hatched, never as a
zero; a month still open is a dashed band, "not yet released"; a share is a percentage.
Month labels are short ("Jan", the year under the first month and each January) and
thinned to whole quarters or years when a window has too many to fit. Every chart has a
text alternative (its `<title>`, and a `<desc>` with every figure) and its figures in a
table. A chart with nothing counted is not drawn: it is named in one line instead.

The 72-hour split is stacked: within 72 h, after 72 h, no contact yet, with a legend; a
hidden part is hatched on top, as tall as the column's published total leaves for it.

A chart of categories over the window sums each row's published cells of the released
months (a sum of published cells says nothing more than they do), "+ hidden" when some
of its months are hidden: never the release's own window total, which is not published
while a month is open or hidden."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH = 320  # about a phone's width, so the text is drawn near its own size there
SUPPRESSED = "hidden"
NOT_RELEASED = "not yet released"
INK, MUTED, LINE = "#1a202c", "#4a5568", "#cbd5e0"
BLUE = "#2b6cb0"
# The 72-hour split: in time, late, not yet; told apart by order and by a legend too.
SPLIT = {"within_72h": "#2f855a", "after_72h": "#c05621", "no_contact_yet": "#a0aec0"}
SPLIT_NAMES = {
    "within_72h": "within 72 h",
    "after_72h": "after 72 h",
    "no_contact_yet": "no contact yet",
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FULL_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
UNITS = {"share": "Share", "hours": "Hours", "minutes": "Minutes"}
NAMES = {  # category codes as a chief reads them; any other code: its words
    "eap": "Employee assistance",
    "crisis_line": "Crisis line",
    "substance_use": "Substance use",
    "in_person": "In person",
    "officer_request": "Officers' requests",
    "incident_assignment": "Incident assignments",
    "officer_involved_shooting": "Officer-involved shooting",
    "child_death_or_serious_injury": "Child death or serious injury",
    "hostage_or_barricade": "Hostage or barricade",
    "other_critical": "Other critical incident",
    **{str(n): f"{n} of 5" for n in range(1, 6)},
}

# Column chart geometry (viewBox units).
LEFT, RIGHT, TOP, PLOT, AXIS = 6, 6, 16, 88, 30
STUB = 10  # the height of a hidden cell whose size is not known
CHAR = 6.2  # the width of one character at 11 units, roughly; labels are spaced by it


def _name(code: str) -> str:
    return NAMES.get(code, code.replace("_", " ").capitalize())


def _open(cell: dict) -> bool:
    return cell["value"] is None and not cell["suppressed"]


# Periods, as a person reads them.


def _parts(period: str) -> tuple[str, str]:
    """("Jan", "2026") of `2026-01`, ("Q1", "2026") of `2026-Q1`."""
    year, rest = period[:4], period[5:]
    if rest.startswith("Q"):
        return rest, year
    if rest.isdigit():
        return MONTHS[int(rest) - 1], year
    return period, ""


def _period(period: str) -> str:
    short, year = _parts(period)
    return f"{short} {year}".strip()


def _long(period: str) -> tuple[str, str]:
    short, year = _parts(period)
    rest = period[5:]
    return (FULL_MONTHS[int(rest) - 1] if rest.isdigit() else short), year


def span(periods: list[str]) -> str:
    """`January to December 2026`, `November 2025 to February 2026`, `Q1 2026`."""
    if not periods:
        return ""
    (first, first_year), (last, last_year) = _long(periods[0]), _long(periods[-1])
    if len(periods) == 1:
        return f"{first} {first_year}".strip()
    if first_year == last_year:
        return f"{first} to {last} {last_year}".strip()
    return f"{first} {first_year} to {last} {last_year}"


def _ordinal(period: str) -> int:
    """Months (or quarters) since year 0, to thin labels on whole quarters or years."""
    short, year = _parts(period)
    if short in MONTHS:
        return int(year) * 12 + MONTHS.index(short)
    if short.startswith("Q") and year:
        return int(year) * 4 + int(short[1:]) - 1
    return 0


def _every(periods: list[str], step: float) -> int:
    """Label every n-th period so that no two labels touch: 1, 2, 3, 6 or 12 months
    (1, 2 or 4 quarters), or more."""
    widest = max((len(_parts(p)[0]) for p in periods), default=1) * CHAR + 4
    need = math.ceil(widest / step) if step > 0 else 1
    quarters = bool(periods) and _parts(periods[0])[0].startswith("Q")
    for n in (1, 2, 4) if quarters else (1, 2, 3, 6, 12):
        if n >= need:
            return n
    return need


# Values, as drawn on a chart (short) and as said in words (exact).


def _said(cell: dict, unit: str = "") -> str:
    if cell["suppressed"]:
        return SUPPRESSED
    value = cell["value"]
    if value is None:
        return "–"
    return f"{round(value * 100, 1):g}%" if unit == "share" else f"{value:g}"


def _drawn(value: float, unit: str) -> str:
    if unit == "share":
        return f"{round(value * 100)}%"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:g}"


# Drawing.


def _hatch(uid: str) -> str:
    return (
        f'<pattern id="{uid}" width="5" height="5" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="5" height="5" fill="#edf2f7"/>'
        f'<line x1="0" y1="0" x2="0" y2="5" stroke="{MUTED}" stroke-width="2"/></pattern>'
    )


def _hatched(uid: str, x: float, y: float, w: float, h: float, tip: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="url(#{uid})" '
        f'stroke="{MUTED}" stroke-width=".75" class="suppressed"><title>{escape(tip)}</title>'
        "</rect>"
    )


def _text(x: float, y: float, text: str, size: int = 10, fill: str = INK, **more: str) -> str:
    attrs = "".join(f' {k.rstrip("_").replace("_", "-")}="{v}"' for k, v in more.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}"{attrs}>'
        f"{escape(text)}</text>"
    )


@dataclass
class Series:
    """One row of a table over time, as a chart draws it."""

    name: str
    colour: str
    cells: list[dict]


def _svg(uid: str, title: str, desc: str, height: float, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} '
        f'{height:.0f}" width="{WIDTH}" height="{height:.0f}" aria-labelledby="{uid}-t" '
        f'aria-describedby="{uid}-d"><title id="{uid}-t">{escape(title)}</title>'
        f'<desc id="{uid}-d">{escape(desc)}</desc><defs>{_hatch(uid + "-h")}</defs>'
        f"{body}</svg>"
    )


def columns(
    uid: str,
    periods: list[str],
    series: list[Series],
    totals: list[dict] | None,
    unit: str,
    opened: set[str],
) -> str:
    """Columns over periods, one per period, stacked when there are several series; a
    hidden part is hatched (its height known when the column's total is published),
    an open period a dashed band."""
    n = max(len(periods), 1)
    step = (WIDTH - LEFT - RIGHT) / n
    bar = min(step * 0.62, 34)
    base = TOP + PLOT
    hatch = uid + "-h"

    def stack(i: int) -> tuple[float, bool, dict | None]:
        """The column's published height, whether part of it is hidden, its total."""
        shown = sum(s.cells[i]["value"] or 0 for s in series if not s.cells[i]["suppressed"])
        hidden = any(s.cells[i]["suppressed"] for s in series)
        total = (
            totals[i] if totals is not None else (series[0].cells[i] if len(series) == 1 else None)
        )
        return shown, hidden, total

    heights = []
    for i, p in enumerate(periods):
        if p in opened:
            continue
        shown, _, total = stack(i)
        known = total["value"] if total and not total["suppressed"] and total["value"] else 0
        heights.append(max(shown, known))
    peak = 1.0 if unit == "share" else (max(heights, default=0) or 1)
    # Room for a hidden part of unknown size on top of the tallest column.
    unknown = False
    for i, p in enumerate(periods):
        shown, hidden, total = stack(i)
        if p not in opened and hidden and shown and (total is None or total["suppressed"]):
            unknown = True
    scale = (PLOT - (STUB if unknown and unit != "share" else 0)) / peak

    labels = [_drawn(v, unit) for v in heights if v]
    values_fit = max((len(t) for t in labels), default=1) * CHAR * 0.92 + 2 <= step
    parts: list[str] = [
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="{MUTED}"/>'
    ]
    if unit == "share":
        parts.append(
            f'<line x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}" stroke="{LINE}" '
            'stroke-dasharray="2 3"/>'
        )
    elif not values_fit:
        parts.append(
            f'<line x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}" stroke="{LINE}" '
            'stroke-dasharray="2 3"/>' + _text(LEFT, TOP - 3, _drawn(peak, unit), 9, MUTED)
        )

    # The open periods, one dashed band for each run of them.
    i = 0
    while i < len(periods):
        if periods[i] not in opened:
            i += 1
            continue
        j = i
        while j + 1 < len(periods) and periods[j + 1] in opened:
            j += 1
        x, w = LEFT + i * step + 1, (j - i + 1) * step - 2
        parts.append(
            f'<rect x="{x:.1f}" y="{TOP - 8}" width="{w:.1f}" height="{PLOT + 8}" '
            f'fill="#f7fafc" stroke="#a0aec0" stroke-dasharray="3 3" class="open"><title>'
            f"{escape(span(periods[i : j + 1]))}: {NOT_RELEASED}</title></rect>"
        )
        cx, cy = x + w / 2, TOP - 8 + (PLOT + 8) / 2
        if w >= len(NOT_RELEASED) * CHAR * 0.9:
            parts.append(_text(cx, cy + 3, NOT_RELEASED, 10, MUTED, text_anchor="middle"))
        else:
            parts.append(
                _text(
                    cx + 3,
                    cy,
                    NOT_RELEASED,
                    10,
                    MUTED,
                    text_anchor="middle",
                    transform=f"rotate(-90 {cx + 3:.1f} {cy:.1f})",
                )
            )
        i = j + 1

    for i, period in enumerate(periods):
        x = LEFT + i * step + (step - bar) / 2
        cx = x + bar / 2
        if period in opened:
            continue
        shown, hidden, total = stack(i)
        y = base
        for s in series:
            cell = s.cells[i]
            if cell["suppressed"] or not cell["value"]:
                continue
            h = cell["value"] * scale
            y -= h
            tip = f"{period}: {_said(cell, unit)}" + (f" {s.name}" if len(series) > 1 else "")
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{s.colour}" class="value"><title>{escape(tip)}</title></rect>'
            )
        if hidden:
            known = total is not None and not total["suppressed"] and total["value"] is not None
            h = (total["value"] - shown) * scale if known and len(series) > 1 else STUB
            h = max(h, 4)
            y -= h
            names = [s.name for s in series if s.cells[i]["suppressed"]]
            tip = f"{period}: {SUPPRESSED}" + (f" ({', '.join(names)})" if len(series) > 1 else "")
            parts.append(_hatched(hatch, x, y, bar, h, tip))
        if total is not None and not total["suppressed"] and total["value"] is not None:
            if values_fit:
                colour = INK if total["value"] else MUTED
                parts.append(
                    _text(cx, y - 3, _drawn(total["value"], unit), 10, colour, text_anchor="middle")
                )
        elif total is not None and _open(total) and not hidden:
            parts.append(_text(cx, base - 3, "–", 10, MUTED, text_anchor="middle"))

    every = _every(periods, step)
    last_year_end = -1e9
    for i, period in enumerate(periods):
        short, year = _parts(period)
        cx = LEFT + i * step + step / 2
        ordinal = _ordinal(period)
        if ordinal % every == 0:
            parts.append(
                _text(cx, base + 12, short, 11, MUTED, text_anchor="middle", class_="tick")
            )
        new_year = i == 0 or _parts(periods[i - 1])[1] != year
        width = len(year) * CHAR
        if year and new_year and cx - width / 2 > last_year_end + 4:
            x = max(cx, LEFT + width / 2)
            parts.append(_text(x, base + 25, year, 10, MUTED, text_anchor="middle", class_="year"))
            last_year_end = x + width / 2
    return "".join(parts)


def bars(uid: str, rows: list[tuple[str, int, bool]]) -> str:
    """Horizontal bars over categories, each labelled above its bar: the published
    count, and a hatched stub after it when some of the months are hidden."""
    height = 34
    peak = max((value for _, value, _ in rows), default=0) or 1
    room = WIDTH - 8 - 96
    parts = []
    for i, (key, value, hidden) in enumerate(rows):
        y = 4 + i * height
        parts.append(_text(4, y + 12, _name(key), 12, INK))
        tip = f"{_name(key)}: {_partial(value, hidden)}"
        x = 4
        if value:
            w = max(value / peak * room, 2)
            parts.append(
                f'<rect x="4" y="{y + 16}" width="{w:.1f}" height="12" fill="{BLUE}" '
                f'class="value"><title>{escape(tip)}</title></rect>'
            )
            x += w + 1
        if hidden:
            parts.append(_hatched(uid + "-h", x, y + 16, 22, 12, tip))
            x += 22
        parts.append(_text(x + 4, y + 26, _partial(value, hidden), 11, INK if value else MUTED))
    return "".join(parts)


def _partial(value: int, hidden: bool) -> str:
    """A row's count over the released months: "18", "18 + hidden", "hidden"."""
    if not hidden:
        return _drawn(value, "")
    return f"{_drawn(value, '')} + {SUPPRESSED}" if value else SUPPRESSED


def _table(caption: str, head: list[str], rows: list[tuple[str, list[str]]]) -> str:
    """The chart's figures; a row of one figure under several columns (a period not yet
    released) spans them."""
    cols = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)

    def cells(values: list[str]) -> str:
        if len(values) == 1 and len(head) > 2:
            return f'<td colspan="{len(head) - 1}">{escape(values[0])}</td>'
        return "".join(f"<td>{escape(v)}</td>" for v in values)

    body = "".join(
        f'<tr><th scope="row">{escape(name)}</th>{cells(values)}</tr>' for name, values in rows
    )
    return (
        f"<details><summary>The figures</summary><table><caption>{escape(caption)}</caption>"
        f"<thead><tr>{cols}</tr></thead><tbody>{body}</tbody></table></details>"
    )


def _legend(series: list[Series]) -> str:
    items = "".join(
        f'<li><svg width="12" height="12" aria-hidden="true" focusable="false"><rect width="12" '
        f'height="12" fill="{s.colour}"/></svg> {escape(s.name)}</li>'
        for s in series
    )
    return f'<ul class="legend">{items}</ul>'


def _figure(
    title: str, svg: str, table: str, legend: str = "", note: str = "", when: str = ""
) -> str:
    note = f'<p class="chart-note">{escape(note)}</p>' if note else ""
    when = f' <span class="when">{escape(when)}</span>' if when else ""
    return (
        f"<figure><figcaption>{escape(title)}{when}</figcaption>{legend}{svg}{note}{table}</figure>"
    )


# The dashboard.


@dataclass
class Chart:
    """One chart of the dashboard: its figure, or None when nothing was counted (then
    `name` goes into the line of charts not drawn)."""

    name: str
    figure: str | None


class _Drawing:
    """The charts of one release: its periods, which of them are open, and what the key
    needs to explain."""

    def __init__(self, answer: dict) -> None:
        self.periods: list[str] = answer["periods"]
        self.tables = {t["name"]: t for t in answer["tables"]}
        self.indicators = {i["name"]: i for i in answer["indicators"]}
        self.opened = _opened(self.periods, answer.get("open") or [])
        self.released = [p for p in self.periods if p not in self.opened]
        self.count = 0
        self.nothing_to_compute = False

    def uid(self) -> str:
        self.count += 1
        return f"chart-{self.count}"

    def _something(self, cells: list[dict]) -> bool:
        return any(
            c["suppressed"] or c["value"]
            for p, c in zip(self.periods, cells, strict=True)
            if p not in self.opened
        )

    def over_time(
        self, name: str, title: str, series: list[Series], totals=None, unit: str = ""
    ) -> Chart:
        if not any(self._something(s.cells) for s in series):
            return Chart(name, None)
        if unit in ("hours", "minutes", "share"):
            self.nothing_to_compute |= any(
                _open(c)
                for s in series
                for p, c in zip(self.periods, s.cells, strict=True)
                if p not in self.opened
            )
        uid = self.uid()
        body = columns(uid, self.periods, series, totals, unit, self.opened)
        height = TOP + PLOT + AXIS

        def said(p: str, cell: dict) -> str:
            return NOT_RELEASED if p in self.opened else _said(cell, unit)

        if len(series) == 1:
            cells = series[0].cells
            head = ["Period", UNITS.get(unit, "Count")]
            rows = [(_period(p), [said(p, c)]) for p, c in zip(self.periods, cells, strict=True)]
            desc = "; ".join(
                f"{_period(p)}: {said(p, c)}" for p, c in zip(self.periods, cells, strict=True)
            )
        else:
            head = ["Period", *(s.name for s in series), "All"]
            rows = []
            words = []
            for i, p in enumerate(self.periods):
                figures = [said(p, s.cells[i]) for s in series]
                every = said(p, totals[i]) if totals is not None else ""
                rows.append((_period(p), [NOT_RELEASED] if p in self.opened else [*figures, every]))
                if p in self.opened:
                    words.append(f"{_period(p)}: {NOT_RELEASED}")
                else:
                    pairs = ", ".join(f"{f} {s.name}" for f, s in zip(figures, series, strict=True))
                    words.append(f"{_period(p)}: {every} ({pairs})")
            desc = "; ".join(words)
        legend = _legend(series) if len(series) > 1 else ""
        svg = _svg(uid, title, f"By {self._by()}. {desc}.", height, body)
        return Chart(name, _figure(title, svg, _table(title, head, rows), legend))

    def by_category(self, name: str, title: str, table: dict, order=None) -> Chart:
        """A row's figure is the sum of its published cells of the released months, and
        "+ hidden" when any of them is hidden: no more than the months say."""
        rows = table["rows"] if order is None else order(table["rows"])
        index = [i for i, p in enumerate(self.periods) if p not in self.opened]
        sums = [
            (
                r["key"],
                sum(r["cells"][i]["value"] or 0 for i in index if not r["cells"][i]["suppressed"]),
                any(r["cells"][i]["suppressed"] for i in index),
            )
            for r in rows
        ]
        shown = [row for row in sums if row[1] or row[2]]
        if not index or not shown:
            return Chart(name, None)
        none = [_name(k) for k, value, hidden in sums if not value and not hidden]
        when = span(self.released) + (", the months released" if self.opened else "")
        uid = self.uid()
        words = "; ".join(f"{_name(k)}: {_partial(v, h)}" for k, v, h in sums)
        svg = _svg(uid, f"{title}, {when}", words + ".", 8 + 34 * len(shown), bars(uid, shown))
        if len(none) > 3:
            note = f"None in the other {len(none)}."
        else:
            note = f"None: {', '.join(none)}." if none else ""
        table_html = _table(
            f"{title}, {when}",
            ["Category", span(self.released)],
            [(_name(k), [_partial(v, h)]) for k, v, h in sums],
        )
        return Chart(name, _figure(title, svg, table_html, note=note, when=when))

    def _by(self) -> str:
        quarters = bool(self.periods) and _parts(self.periods[0])[0].startswith("Q")
        return "quarter" if quarters else "month"

    def totals(self, name: str, table: str, title: str | None = None) -> Chart:
        t = self.tables[table]
        series = [Series("all", BLUE, t["totals"])]
        return self.over_time(name, title or t["title"], series)

    def indicator(self, name: str, indicator: str, title: str | None = None) -> Chart:
        i = self.indicators[indicator]
        shown = title or i["title"] + (" (%)" if i["unit"] == "share" else "")
        return self.over_time(name, shown, [Series(shown, BLUE, i["cells"])], unit=i["unit"])

    def split(self, name: str, table: str) -> Chart:
        t = self.tables[table]
        series = [
            Series(
                SPLIT_NAMES.get(r["key"], _name(r["key"])),
                SPLIT.get(r["key"], BLUE),
                r["cells"],
            )
            for r in t["rows"]
        ]
        return self.over_time(name, t["title"], series, totals=t["totals"])


def _opened(periods: list[str], months: list[str]) -> set[str]:
    """The periods not yet released: open months, and quarters holding one."""
    return {p for p in periods if p in months or any(_quarter(m) == p for m in months)}


def _quarter(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def _best_first(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: r["key"], reverse=True)


def _swatch(kind: str) -> str:
    if kind == "hatched":
        inner = (
            f'<defs>{_hatch("key-h")}</defs><rect width="14" height="14" '
            f'fill="url(#key-h)" stroke="{MUTED}"/>'
        )
    else:
        inner = (
            '<rect x=".5" y=".5" width="13" height="13" fill="#f7fafc" stroke="#a0aec0" '
            'stroke-dasharray="3 3"/>'
        )
    return (
        f'<svg width="14" height="14" aria-hidden="true" focusable="false" class="swatch">'
        f"{inner}</svg>"
    )


def _scope(answer: dict, periods: list[str]) -> str:
    """`Agency HARBOR · January to December 2026, month by month`."""
    who = answer.get("scope")
    if who == "agency":
        whose = f"Agency {answer.get('agency')}"
    elif who == "region":
        whose = "Region: every agency"
    else:
        whose = ""
    quarters = bool(periods) and _parts(periods[0])[0].startswith("Q")
    when = f"{span(periods)}, {'quarter by quarter' if quarters else 'month by month'}"
    parts = [f"<strong>{escape(whose)}</strong>"] if whose else []
    return f'<p class="scope">{" · ".join([*parts, escape(when)])}</p>'


def dashboard(answer: dict) -> str:
    """The charts of a release, as an HTML fragment: whose and when, a key, the charts."""
    drawing = _Drawing(answer)
    periods = drawing.periods
    drawn = [
        drawing.totals("critical incidents", "incidents", "Critical incidents"),
        drawing.split("officers offered a check-in", "first_offers"),
        drawing.indicator(
            "first contacts within 72 h",
            "share_first_contact_within_72h",
            "Of the officers contacted, the share first contacted within 72 h (%)",
        ),
        drawing.indicator("hours to a first contact", "median_hours_to_first_contact"),
        drawing.totals(
            "officers' requests",
            "requests_made",
            "Officers' requests for a peer: all, withdrawn or not",
        ),
        drawing.indicator(
            "requests answered in time", "share_requests_acknowledged_within_deadline"
        ),
        drawing.indicator("minutes to an answer", "median_minutes_to_acknowledge_request"),
        drawing.by_category(
            "incidents by category", "Critical incidents by category", drawing.tables["incidents"]
        ),
        drawing.by_category(
            "escalations", drawing.tables["escalations"]["title"], drawing.tables["escalations"]
        ),
        drawing.by_category(
            "referrals", drawing.tables["referrals"]["title"], drawing.tables["referrals"]
        ),
        drawing.by_category(
            "ratings", drawing.tables["ratings"]["title"], drawing.tables["ratings"], _best_first
        ),
        drawing.indicator("would recommend", "share_would_recommend"),
        drawing.by_category(
            "contacts by channel",
            drawing.tables["contacts_by_channel"]["title"],
            drawing.tables["contacts_by_channel"],
        ),
    ]
    figures = [c.figure for c in drawn if c.figure is not None]
    empty = [c.name for c in drawn if c.figure is None]

    min_cell = answer.get("min_cell") or 5
    key = [
        f"<li>{_swatch('hatched')} Hatched: fewer than {min_cell}, or a figure that would "
        "let someone work one out; hidden to protect the officers.</li>"
    ]
    if drawing.opened:
        key.append(
            f"<li>{_swatch('open')} Not yet released: {escape(span(sorted(drawing.opened)))}."
            " A month is released once it has closed, and never changes after.</li>"
        )
    if drawing.nothing_to_compute:
        key.append(
            '<li><span class="dash" aria-hidden="true">–</span> Nothing to compute: no '
            "offers, requests or ratings that month.</li>"
        )
    out = [_scope(answer, periods)]
    if figures:
        out.append(f'<ul class="key">{"".join(key)}</ul>')
    if answer.get("withheld"):
        months = answer.get("withheld_months") or []
        which = f" ({', '.join(_period(m) for m in months)})" if months else ""
        out.append(f'<p class="withheld">{escape(answer["withheld"] + which)}</p>')
    if figures:
        out.append(f'<div class="charts">{"".join(figures)}</div>')
    released = escape(span(drawing.released))
    if not drawing.released:
        out.append(
            f'<p class="empty">Not released yet: {escape(span(periods))}. A month is released '
            "once it has closed.</p>"
        )
    elif not figures:
        out.append(
            f'<p class="empty">Nothing counted in {released}: no critical incidents, check-ins '
            "offered, requests for a peer, referrals or ratings.</p>"
        )
    elif empty:
        out.append(
            f'<p class="empty">Nothing counted in {released}: {escape(", ".join(empty))}.</p>'
        )
    return "".join(out)
