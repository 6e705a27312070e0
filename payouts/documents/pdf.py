"""A small PDF renderer for the documents people keep: statements and invoices.

A document is data, not layout: a title, a block of facts (label and value), one or
more tables whose money columns are right-aligned, a totals block and a footer. The
caller formats every figure first (ledger/display.py), so the PDF shows the same text
as the portal and the CSV; this module does no arithmetic on money.

ReportLab, because its wheels are pure Python plus a bundled C accelerator: no system
libraries. WeasyPrint would render our HTML templates but needs Pango and its fonts,
which a fresh machine (and CI) lacks. The built-in Helvetica covers the symbols we
print (€, £, ¥, $ and the no-break space) in WinAnsi, so no font files ship either,
and pypdf extracts the text back for tests.

The output is deterministic for the same input (fixed creation date, invariant ids),
so a document re-rendered from the same books is byte-for-byte the same file.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

# A bound on rows per table: a statement or invoice longer than this is a bug upstream
# (a run's lines are per license and work), and ReportLab's layout time grows with it.
TABLE_ROWS_MAX = 20_000


@dataclass(frozen=True)
class Column:
    """A table column: its heading and whether its values are amounts (right-aligned)."""

    heading: str
    numeric: bool = False


@dataclass(frozen=True)
class DocumentTable:
    """A titled table; `rows` hold already formatted text, one string per column."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[str]]
    title: str = ""
    empty_text: str = "Nothing in this period."


@dataclass(frozen=True)
class Document:
    """What a PDF shows, in reading order."""

    title: str
    facts: Sequence[tuple[str, str]] = ()
    tables: Sequence[DocumentTable] = ()
    totals: Sequence[tuple[str, str]] = ()
    footer: str = ""
    author: str = "Accord"
    subject: str = ""
    notes: Sequence[str] = field(default_factory=tuple)


_STYLES = getSampleStyleSheet()
_TITLE = ParagraphStyle("AccordTitle", parent=_STYLES["Title"], alignment=0, fontSize=16)
_HEADING = ParagraphStyle("AccordHeading", parent=_STYLES["Heading3"], spaceBefore=8)
_BODY = ParagraphStyle("AccordBody", parent=_STYLES["BodyText"], fontSize=9, leading=11)
_CELL = ParagraphStyle("AccordCell", parent=_BODY, fontSize=8, leading=10)
_CELL_RIGHT = ParagraphStyle("AccordCellRight", parent=_CELL, alignment=2)
_GRID = colors.HexColor("#d0d4da")
_HEAD_FILL = colors.HexColor("#f1f3f5")


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    # Paragraph parses a mini-markup; user text (work titles) must not be read as tags.
    return Paragraph(escape(text), style)


def _facts_table(pairs: Sequence[tuple[str, str]], *, bold_last: bool = False) -> Table:
    data = [[_paragraph(label, _BODY), _paragraph(value, _BODY)] for label, value in pairs]
    table = Table(data, colWidths=[55 * mm, None], hAlign="LEFT")
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#555555")),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
    ]
    if bold_last and data:
        commands.append(("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black))
    table.setStyle(TableStyle(commands))
    return table


def _totals_table(pairs: Sequence[tuple[str, str]]) -> Table:
    data = [[_paragraph(label, _BODY), _paragraph(value, _CELL_RIGHT)] for label, value in pairs]
    table = Table(data, colWidths=[60 * mm, 45 * mm], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("LINEABOVE", (0, -1), (-1, -1), 0.75, colors.black),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def _data_table(spec: DocumentTable, width: float) -> Table | Paragraph:
    assert len(spec.rows) <= TABLE_ROWS_MAX, "a document table longer than any period holds"
    if not spec.rows:
        return _paragraph(spec.empty_text, _BODY)
    header = [
        _paragraph(column.heading, _CELL_RIGHT if column.numeric else _CELL)
        for column in spec.columns
    ]
    body = []
    for row in spec.rows:
        assert len(row) == len(spec.columns), "a row has one value per column"
        body.append(
            [
                _paragraph(value, _CELL_RIGHT if column.numeric else _CELL)
                for column, value in zip(spec.columns, row, strict=True)
            ]
        )
    # Text columns share what the money columns leave; money columns get a fixed width
    # so amounts line up from one page to the next.
    numeric_count = sum(1 for column in spec.columns if column.numeric)
    text_count = len(spec.columns) - numeric_count
    numeric_width = 24 * mm
    text_width = max((width - numeric_count * numeric_width) / max(text_count, 1), 15 * mm)
    widths = [numeric_width if column.numeric else text_width for column in spec.columns]
    table = Table([header, *body], colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), _HEAD_FILL),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, _GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def render_pdf(document: Document) -> bytes:
    """Render a document to PDF bytes (A4, deterministic for the same input)."""
    buffer = io.BytesIO()
    margin = 15 * mm
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin + 8 * mm,
        title=document.title,
        author=document.author,
        subject=document.subject,
        creator="Accord",
        invariant=True,
    )
    story: list = [_paragraph(document.title, _TITLE)]
    if document.facts:
        story += [_facts_table(document.facts), Spacer(1, 4 * mm)]
    for spec in document.tables:
        if spec.title:
            story.append(_paragraph(spec.title, _HEADING))
        story += [_data_table(spec, template.width), Spacer(1, 3 * mm)]
    if document.totals:
        story += [Spacer(1, 2 * mm), _totals_table(document.totals)]
    for note in document.notes:
        story += [Spacer(1, 2 * mm), _paragraph(note, _BODY)]

    def _footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(colors.HexColor("#666666"))
        text = f"{document.footer}  ·  page {doc.page}" if document.footer else f"page {doc.page}"
        canvas.drawString(margin, margin, text)
        canvas.restoreState()

    template.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()
