"""Drafting a community's statute, internal regulation and mandate contracts from templates.

A template (`templates_docs/*.txt`) is Django template text, in Italian, with a light
markup: `# ` opens the title, `### ` a part (unnumbered, "Titolo I — ..."), `## ` an
article, numbered here in order ("Art. 1 — ..."), so conditional articles never leave a
gap; `- ` a list item; a blank line ends a paragraph. `draft` fills it with the
community's data and returns blocks, which `to_docx` and `to_pdf` lay out. Every drafted
document says on its first page and on the header of every page that it is a draft for
professional review: the platform writes a starting point, a notary or lawyer signs off.

Figures and dates go through cer.core.formatting (the `fmt` template library), always in
Italian: the documents are acts under Italian law.
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
TEMPLATE_OF_KIND = {
    "STATUTE": "statute.txt",
    "REGULATION": "regulation.txt",
    "MANDATE": "mandate.txt",
}
DRAFT_LABEL = "Bozza da sottoporre a revisione professionale"
_ENGINE = Engine(
    dirs=[str(TEMPLATES_DIR)],
    autoescape=False,
    libraries={"fmt": "cer.core.templatetags.fmt"},
)


@dataclass(frozen=True)
class Block:
    kind: str  # "title", "label", "section", "heading", "item", "paragraph"
    text: str


def draft(kind: str, context: dict[str, Any]) -> list[Block]:
    """Fill the template of `kind` (STATUTE, REGULATION or MANDATE) and split it into blocks.

    Articles (`## `) are numbered in order of appearance; the draft label follows the title.
    """
    with translation.override("it"):
        text = _ENGINE.get_template(TEMPLATE_OF_KIND[kind]).render(Context(context))
    blocks: list[Block] = []
    paragraph: list[str] = []
    articles = 0

    def flush() -> None:
        if paragraph:
            blocks.append(Block("paragraph", " ".join(paragraph)))
            paragraph.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith("### "):
            flush()
            blocks.append(Block("section", stripped[4:]))
        elif stripped.startswith("## "):
            flush()
            articles += 1
            blocks.append(Block("heading", f"Art. {articles} — {stripped[3:]}"))
        elif stripped.startswith("# "):
            flush()
            blocks.append(Block("title", stripped[2:]))
            blocks.append(Block("label", DRAFT_LABEL))
        elif stripped.startswith("- "):
            flush()
            blocks.append(Block("item", stripped[2:]))
        else:
            paragraph.append(stripped)
    flush()
    return blocks


def _page_field(paragraph: Any) -> None:
    """Append a PAGE field to a python-docx paragraph (Word fills in the number)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def to_docx(blocks: list[Block]) -> bytes:
    """Lay the blocks out as a Word document (python-docx): the draft label in every page's
    header, the page number in the footer."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = Document()
    section = document.sections[0]
    header = section.header.paragraphs[0]
    header.text = DRAFT_LABEL
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("Pagina ")
    _page_field(footer)
    for block in blocks:
        if block.kind == "title":
            document.add_heading(block.text, level=0)
        elif block.kind == "label":
            run = document.add_paragraph().add_run(block.text.upper())
            run.bold = True
            run.font.size = Pt(10)
        elif block.kind == "section":
            document.add_heading(block.text, level=1)
        elif block.kind == "heading":
            document.add_heading(block.text, level=2)
        elif block.kind == "item":
            document.add_paragraph(block.text, style="List Bullet")
        else:
            document.add_paragraph(block.text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _numbered_canvas_class() -> Any:
    """A reportlab canvas that writes the draft label and "Pagina n di m" on every page.

    The total is known only once every page is laid out, so pages are kept and stamped
    at save time (reportlab's usual recipe).
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                width, height = A4
                self.setFont("Helvetica-Oblique", 8)
                self.drawCentredString(width / 2, height - 1.2 * cm, DRAFT_LABEL)
                self.setFont("Helvetica", 8)
                self.drawCentredString(width / 2, 1.2 * cm, f"Pagina {self._pageNumber} di {total}")
                super().showPage()
            super().save()

    return NumberedCanvas


def to_pdf(blocks: list[Block], *, title: str) -> bytes:
    """Lay the blocks out as an A4 PDF (reportlab): title, draft label, parts and numbered
    articles kept with their first paragraph, justified text, the draft label and
    "Pagina n di m" on every page."""
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate

    sheet = getSampleStyleSheet()
    body = ParagraphStyle("Body", parent=sheet["BodyText"], alignment=TA_JUSTIFY, leading=14)
    styles = {
        "title": ParagraphStyle("DraftTitle", parent=sheet["Title"], fontSize=16, leading=20),
        "label": ParagraphStyle(
            "DraftLabel",
            parent=body,
            alignment=TA_CENTER,
            fontName="Helvetica-Bold",
            textColor="#9a3412",
            spaceAfter=12,
        ),
        "section": ParagraphStyle(
            "Part", parent=sheet["Heading2"], alignment=TA_CENTER, keepWithNext=1
        ),
        "heading": ParagraphStyle(
            "Article", parent=sheet["Heading4"], fontSize=11, keepWithNext=1, spaceBefore=8
        ),
        "paragraph": body,
    }
    subtitle = ParagraphStyle("Subtitle", parent=body, alignment=TA_CENTER, spaceAfter=10)
    story: list[Any] = []
    items: list[Any] = []

    def flush_items() -> None:
        if items:
            story.append(ListFlowable(list(items), bulletType="bullet", leftIndent=14))
            items.clear()

    previous = ""
    for block in blocks:
        text = escape(block.text)
        if block.kind == "item":
            items.append(ListItem(Paragraph(text, body)))
            continue
        flush_items()
        # The line under the title and the label names the community and its form.
        style = subtitle if previous == "label" else styles.get(block.kind, body)
        story.append(Paragraph(text, style))
        previous = block.kind
    flush_items()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        subject=DRAFT_LABEL,
        lang="it",
        leftMargin=2.5 * cm,
        rightMargin=2.5 * cm,
        topMargin=2.2 * cm,
        bottomMargin=2.2 * cm,
    )
    document.build(story, canvasmaker=_numbered_canvas_class())
    return buffer.getvalue()
