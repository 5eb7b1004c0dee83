"""The leadership report (`leadership.Report`) printed: an HTML page with a print
stylesheet, and a PDF of one page drawn with fpdf2 (pure Python, decision 77). Both
show the same lines; nothing here decides a figure."""

from __future__ import annotations

from html import escape

from fpdf import FPDF

from .leadership import Report

ANONYMOUS = "Anonymous figures: no officer or supporter is named or can be singled out."

# The page fits A4 and US Letter alike: A4's width, Letter's height.
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;
  color:#1a202c;max-width:52rem;margin:1.5rem auto;padding:0 1rem;line-height:1.35}
h1{font-size:1.4rem;margin:0}
.who{margin:.15rem 0 0;color:#2d3748}
.summary{font-size:1.15rem;font-weight:600;margin:.9rem 0;padding:.55rem .8rem;
  border-left:5px solid #2b6cb0;background:#ebf4ff}
table{border-collapse:collapse;width:100%}
th,td{padding:.12rem .45rem;vertical-align:baseline}
thead th{text-align:right;border-bottom:2px solid #2d3748;vertical-align:bottom}
thead th:first-child{text-align:left}
thead th{overflow-wrap:anywhere}
.open{display:block;font-weight:400;color:#744210}
tbody th[scope=rowgroup]{text-align:left;background:#edf2f7;padding-top:.3rem}
tbody th[scope=row]{text-align:left;font-weight:400}
td{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.sub th[scope=row]{padding-left:1.6rem;color:#2d3748}
tr.strong th,tr.strong td{font-weight:700}
td.note{text-align:left;white-space:normal;color:#4a5568;font-size:.85em}
tr.line{border-bottom:1px solid #edf2f7}
.notes{color:#4a5568;font-size:.85em;margin:.6rem 0 0;padding-left:0;list-style:none}
@media print{
  @page{margin:12mm}
  body{max-width:none;margin:0;padding:0;font-size:8.5pt;line-height:1.22}
  h1{font-size:14pt}
  .summary{font-size:10.5pt;margin:2.5mm 0;padding:1.8mm 3mm}
  .summary,tbody th[scope=rowgroup]{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  th,td{padding:.25mm 1.5mm}
  tbody th[scope=rowgroup]{padding-top:1mm}
  table,tbody{break-inside:avoid}
  .notes{font-size:7pt;margin-top:1.5mm}
}
"""


def html(report: Report) -> str:
    """The report as a page: no script, nothing fetched from anywhere."""
    width = len(report.columns) + 1
    heads = "".join(
        f'<th scope="col">{escape(c.who)}<br>{escape(c.when)}'
        + ("" if c.released else '<small class="open">not released yet</small>')
        + "</th>"
        for c in report.columns
    )
    bodies = []
    for section in report.sections:
        rows = [f'<tr><th scope="rowgroup" colspan="{width}">{escape(section.title)}</th></tr>']
        for line in section.lines:
            kinds = ["line", *(k for k, on in (("sub", line.sub), ("strong", line.strong)) if on)]
            cells = "".join(f"<td>{escape(v)}</td>" for v in line.values)
            rows.append(
                f'<tr class="{" ".join(kinds)}"><th scope="row">{escape(line.label)}</th>'
                f"{cells}</tr>"
            )
        if section.note:
            rows.append(f'<tr><td class="note" colspan="{width}">{escape(section.note)}</td></tr>')
        bodies.append("<tbody>" + "".join(rows) + "</tbody>")
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    title = f"{report.title}, {report.who}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Peerline: {escape(title)}</title>
<style>{STYLE}</style></head>
<body>
<header><h1>{escape(report.title)}</h1>
<p class="who">{escape(report.who)}: {escape(report.period.span)}. {ANONYMOUS}</p>
</header>
<p class="summary" id="summary">{escape(report.summary)}</p>
<table><thead><tr><th scope="col"></th>{heads}</tr></thead>
{"".join(bodies)}
</table>
<ul class="notes">{notes}</ul>
</body></html>
"""


# The PDF: one US Letter page, drawn to fit A4's narrower width too. Helvetica, one of
# PDF's own fonts: nothing to embed or install.
MARGIN = 13.0
LABEL_WIDTH = 84.0
ROW = 4.05
BLUE, TINT, BAND = (43, 108, 176), (235, 244, 255), (237, 242, 247)
INK, GREY, AMBER = (26, 32, 44), (74, 85, 104), (116, 66, 16)


def pdf(report: Report) -> bytes:
    """The report as a one-page PDF."""
    doc = FPDF(orientation="portrait", unit="mm", format="letter")
    doc.core_fonts_encoding = "windows-1252"  # the dash, curly quotes
    doc.set_margins(MARGIN, MARGIN, MARGIN)
    doc.set_auto_page_break(True, margin=MARGIN)
    doc.set_title(f"{report.title}, {report.who}")
    doc.set_author("Peerline")
    doc.set_creator("Peerline metrics")
    doc.add_page()
    width = doc.w - 2 * MARGIN
    value_width = (width - LABEL_WIDTH) / len(report.columns)

    doc.set_text_color(*INK)
    doc.set_font("Helvetica", "B", 15)
    doc.cell(width, 7, report.title, new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", "", 9.5)
    doc.set_text_color(*GREY)
    doc.multi_cell(width, 4.4, f"{report.who}: {report.period.span}. {ANONYMOUS}", align="L")
    doc.ln(2.5)

    # The summary, in a tinted band with a blue rule on its left.
    doc.set_font("Helvetica", "B", 11.5)
    doc.set_text_color(*INK)
    doc.set_fill_color(*TINT)
    top = doc.get_y()
    doc.set_x(MARGIN + 3)
    doc.multi_cell(
        width - 3, 5.6, report.summary, fill=True, align="L", padding=(1.5, 2.5, 1.5, 2.5)
    )
    doc.set_fill_color(*BLUE)
    doc.rect(MARGIN, top, 1.6, doc.get_y() - top, style="F")
    doc.ln(3)

    # The columns' headings: who, then when, then whether it is released.
    doc.set_draw_color(*INK)
    doc.set_font("Helvetica", "B", 9)
    _heading_row(doc, value_width, 4.2, [_fit(doc, c.who, value_width - 3) for c in report.columns])
    doc.set_font("Helvetica", "", 9)
    _heading_row(doc, value_width, 4.2, [c.when for c in report.columns])
    if not all(c.released for c in report.columns):
        doc.set_font("Helvetica", "", 7.5)
        doc.set_text_color(*AMBER)
        texts = ["" if c.released else "not released yet" for c in report.columns]
        _heading_row(doc, value_width, 3.5, texts)
        doc.set_text_color(*INK)
    doc.set_line_width(0.5)
    doc.line(MARGIN, doc.get_y(), MARGIN + width, doc.get_y())
    doc.set_line_width(0.2)

    for section in report.sections:
        doc.ln(1.2)
        doc.set_font("Helvetica", "B", 9)
        doc.set_fill_color(*BAND)
        doc.set_text_color(*INK)
        doc.cell(width, 5, section.title, fill=True, new_x="LMARGIN", new_y="NEXT")
        for line in section.lines:
            doc.set_font("Helvetica", "B" if line.strong else "", 8.5)
            indent = 5 if line.sub else 1.5
            doc.set_x(MARGIN + indent)
            doc.cell(LABEL_WIDTH - indent, ROW, line.label)
            for value in line.values:
                doc.cell(value_width, ROW, value, align="R")
            doc.ln(ROW)
        if section.note:
            doc.set_font("Helvetica", "", 7.5)
            doc.set_text_color(*GREY)
            doc.set_x(MARGIN + 1.5)
            doc.multi_cell(width - 1.5, 3.4, section.note, align="L", new_x="LMARGIN", new_y="NEXT")
            doc.set_text_color(*INK)

    doc.ln(2)
    doc.set_draw_color(*GREY)
    doc.line(MARGIN, doc.get_y(), MARGIN + width, doc.get_y())
    doc.ln(1)
    doc.set_font("Helvetica", "", 7.5)
    doc.set_text_color(*GREY)
    for note in report.notes:
        doc.multi_cell(width, 3.4, note, align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())


def _heading_row(doc: FPDF, width: float, height: float, texts: list[str]) -> None:
    doc.cell(LABEL_WIDTH, height, "")
    for text in texts:
        doc.cell(width, height, text, align="R")
    doc.ln(height)


def _fit(doc: FPDF, text: str, width: float) -> str:
    """`text` cut short with an ellipsis where it is wider than `width` (a long agency
    id in a column's heading)."""
    if doc.get_string_width(text) <= width:
        return text
    while text and doc.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"
