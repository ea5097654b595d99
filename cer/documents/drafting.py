"""Drafting a community's statute and internal regulation from the templates in the repository.

A template (`templates_docs/*.txt`) is Django template text, in Italian, with a light
markup: `# ` opens the title, `## ` an article, `- ` a list item, a blank line ends a
paragraph. `draft` fills it with the community's data and returns blocks, which
`to_docx` and `to_pdf` lay out.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.template import Context, Engine
from django.utils import translation

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates_docs"
TEMPLATE_OF_KIND = {"STATUTE": "statute.txt", "REGULATION": "regulation.txt"}
_ENGINE = Engine(dirs=[str(TEMPLATES_DIR)], autoescape=False)


@dataclass(frozen=True)
class Block:
    kind: str  # "title", "heading", "item", "paragraph"
    text: str


def draft(kind: str, context: dict[str, Any]) -> list[Block]:
    """Fill the template of `kind` (STATUTE or REGULATION) and split it into blocks."""
    with translation.override("it"):
        text = _ENGINE.get_template(TEMPLATE_OF_KIND[kind]).render(Context(context))
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("paragraph", " ".join(paragraph)))
            paragraph.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith("## "):
            flush()
            blocks.append(Block("heading", stripped[3:]))
        elif stripped.startswith("# "):
            flush()
            blocks.append(Block("title", stripped[2:]))
        elif stripped.startswith("- "):
            flush()
            blocks.append(Block("item", stripped[2:]))
        else:
            paragraph.append(stripped)
    flush()
    return blocks


def to_docx(blocks: list[Block]) -> bytes:
    """Lay the blocks out as a Word document (python-docx)."""
    from docx import Document

    document = Document()
    for block in blocks:
        if block.kind == "title":
            document.add_heading(block.text, level=0)
        elif block.kind == "heading":
            document.add_heading(block.text, level=1)
        elif block.kind == "item":
            document.add_paragraph(block.text, style="List Bullet")
        else:
            document.add_paragraph(block.text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def to_pdf(blocks: list[Block], *, title: str) -> bytes:
    """Lay the blocks out as an A4 PDF (reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    story: list[Any] = []
    items: list[Any] = []

    def flush_items() -> None:
        if items:
            story.append(ListFlowable(list(items), bulletType="bullet"))
            items.clear()

    for block in blocks:
        text = escape(block.text)
        if block.kind == "item":
            items.append(ListItem(Paragraph(text, styles["BodyText"])))
            continue
        flush_items()
        style = {"title": "Title", "heading": "Heading2"}.get(block.kind, "BodyText")
        story.append(Paragraph(text, styles[style]))
    flush_items()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        lang="it",
        leftMargin=2.5 * cm,
        rightMargin=2.5 * cm,
    )
    document.build(story)
    return buffer.getvalue()
