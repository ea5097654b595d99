"""Small DOCX, ODT and PDF files carrying chosen words, for the archive search tests."""

from __future__ import annotations

import io

import docx
from odf.opendocument import OpenDocumentText
from odf.table import Table, TableCell, TableRow
from odf.text import H, P, Span

from cer.documents import drafting


def docx_bytes(paragraph: str, cell: str = "") -> bytes:
    """A DOCX with one paragraph and, when given, a one-cell table."""
    document = docx.Document()
    document.add_paragraph(paragraph)
    if cell:
        document.add_table(rows=1, cols=1).cell(0, 0).text = cell
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def odt_bytes(heading: str, paragraph: str, cell: str = "") -> bytes:
    """An ODT with a heading, a paragraph split in two spans and, when given, a table."""
    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=heading))
    first, _, rest = paragraph.partition(" ")
    block = P(text=first + " ")
    block.addElement(Span(text=rest))
    document.text.addElement(block)
    if cell:
        table, row, column = Table(), TableRow(), TableCell()
        column.addElement(P(text=cell))
        row.addElement(column)
        table.addElement(row)
        document.text.addElement(table)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pdf_bytes(paragraph: str) -> bytes:
    return drafting.to_pdf([drafting.Block("paragraph", paragraph)], title="Documento")
