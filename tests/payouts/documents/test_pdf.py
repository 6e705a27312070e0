"""The PDF renderer writes what it is given, in order, and the same bytes twice."""

import io

from pypdf import PdfReader

from payouts.documents.pdf import Column, Document, DocumentTable, render_pdf


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _document(rows) -> Document:
    return Document(
        title="Statement for November 2026",
        facts=[("Creator", "Ana <b>&"), ("Period", "1 November 2026 to 30 November 2026")],
        tables=[
            DocumentTable(
                title="Lines",
                columns=[
                    Column("Work"),
                    Column("Units", numeric=True),
                    Column("Net", numeric=True),
                ],
                rows=rows,
            )
        ],
        totals=[("Opening balance", "€0.00"), ("Closing balance", "€1,234.56")],
        footer="stm_1_2026-11_eur",
    )


def test_render_pdf_writes_facts_rows_totals_and_footer():
    pdf = render_pdf(_document([["Song A", "1,000", "€1,234.56"], ["Song B", "2", "£0.0042"]]))

    text = _text(pdf)
    assert pdf.startswith(b"%PDF-")
    for expected in (
        "Statement for November 2026",
        "Ana <b>&",
        "Song A",
        "€1,234.56",
        "£0.0042",
        "Closing balance",
        "stm_1_2026-11_eur",
    ):
        assert expected in text


def test_render_pdf_is_deterministic():
    rows = [["Song A", "1", "€1.00"]]

    assert render_pdf(_document(rows)) == render_pdf(_document(rows))


def test_render_pdf_says_so_when_a_table_is_empty():
    assert "Nothing in this period." in _text(render_pdf(_document([])))


def test_render_pdf_breaks_a_long_table_across_pages_with_its_header():
    rows = [[f"Work {index}", str(index), f"€{index}.00"] for index in range(200)]

    reader = PdfReader(io.BytesIO(render_pdf(_document(rows))))

    assert len(reader.pages) > 1
    assert "Units" in reader.pages[1].extract_text()
    assert "Work 199" in reader.pages[-1].extract_text()
