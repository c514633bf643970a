from migrator.pdf import PdfSection, PdfTable, pdf_document
from tests.pdf_text import pdf_strings, pdf_text


def test_a_pdf_table_is_drawn_as_real_text():
    data = pdf_document(
        title="Quote 12",
        sections=[PdfSection("Price", ["Rule-based pricing."], PdfTable(["Line", "Amount"], [["Band 1", "1,490.00"]]))],
    )
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "Quote 12" in text
    assert "Band 1" in text
    assert "1,490.00" in text


def test_markup_like_values_are_escaped_not_interpreted():
    data = pdf_document(title="T", sections=[PdfSection("S", ["<b>not bold</b> & <unclosed"])])
    assert "<b>not bold</b> & <unclosed" in "".join(pdf_strings(data))


def test_turkish_letters_do_not_break_rendering():
    data = pdf_document(title="Işık Diş Kliniği İstanbul", sections=[PdfSection("Ş", table=PdfTable(["ğ"], [["ı"]]))])
    assert "Kli" in pdf_text(data)
