"""The text of an archived file, read once at upload so the archive can be searched.

PDF through pdfminer.six, DOCX through python-docx (paragraphs, then every table's cells),
ODT through odfpy, plain text as UTF-8 (else Latin-1). A signed `.p7m` reaches this module
already unwrapped (cer.documents.services stores the envelope's content as the version), so
its text is the signed document's. A failure is an outcome, never an error: the version is
stored all the same, with a status saying why it has no text.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cer.documents.models import DocumentVersion, TextStatus

logger = logging.getLogger(__name__)

# At most this many characters are kept per version: about 120 pages of dense text, enough
# for the search and small enough for a database row.
MAX_TEXT_CHARS = 200_000
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"


@dataclass(frozen=True)
class Extracted:
    """The text read from a file, its TextStatus, and the problem in a few words."""

    text: str
    status: str
    problem: str = ""


def _pdf(content: bytes) -> str:
    from pdfminer.high_level import extract_text

    return str(extract_text(io.BytesIO(content)))


def _docx(content: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(content))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _odt(content: bytes) -> str:
    from odf import teletype
    from odf.namespaces import TEXTNS
    from odf.opendocument import load

    document = load(io.BytesIO(content))
    blocks = {(TEXTNS, "p"), (TEXTNS, "h")}
    return "\n".join(teletype.extractText(block) for block in _blocks(document.text, blocks))


def _blocks(element: Any, names: set[Any]) -> Iterator[Any]:
    """Yield the paragraphs and headings under `element` in document order.

    Table cells and lists hold paragraphs too, so the walk goes down everything else.
    """
    for child in element.childNodes:
        if getattr(child, "qname", None) in names:
            yield child
        else:
            yield from _blocks(child, names)


def _plain(content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


READERS: dict[str, Callable[[bytes], str]] = {
    "application/pdf": _pdf,
    DOCX: _docx,
    ODT: _odt,
    "text/plain": _plain,
}


def extract(content: bytes, content_type: str) -> Extracted:
    """Return the text of `content` (of the sniffed `content_type`), capped at MAX_TEXT_CHARS."""
    reader = READERS.get(content_type)
    if reader is None:
        return Extracted("", TextStatus.UNSUPPORTED, content_type)
    try:
        text = reader(content)
    except Exception as failure:  # a broken file must not stop its upload
        logger.warning("text extraction failed (%s): %s", content_type, failure)
        return Extracted("", TextStatus.FAILED, f"{type(failure).__name__}: {failure}"[:200])
    # NUL cannot be stored in a PostgreSQL text column; runs of blanks carry no meaning.
    text = "\n".join(" ".join(line.split()) for line in text.replace("\x00", "").splitlines())
    text = "\n".join(line for line in text.split("\n") if line)
    if not text.strip():
        return Extracted("", TextStatus.EMPTY, "")
    if len(text) > MAX_TEXT_CHARS:
        return Extracted(text[:MAX_TEXT_CHARS], TextStatus.TRUNCATED, "")
    return Extracted(text, TextStatus.EXTRACTED, "")


def fill(version: DocumentVersion, content: bytes) -> None:
    """Set the text fields of `version` (not saved) from its content."""
    result = extract(content, version.content_type)
    version.text = result.text
    version.text_status = result.status
    version.text_problem = result.problem


def refresh(*, every: bool = False) -> dict[str, int]:
    """Read the text of stored versions again; return how many ended in each TextStatus.

    By default only versions never read (stored before extraction existed); `every` reads
    them all, e.g. after a better reader. Running it twice changes nothing the second time.
    """
    versions = DocumentVersion.objects.order_by("pk")
    if not every:
        versions = versions.filter(text_status="")
    counts: dict[str, int] = {}
    for version in versions.iterator():
        try:
            with version.file.open("rb") as handle:
                content = handle.read()
        except OSError as failure:
            result = Extracted("", TextStatus.FAILED, f"file missing: {failure}"[:200])
        else:
            result = extract(content, version.content_type)
        DocumentVersion.objects.filter(pk=version.pk).update(
            text=result.text, text_status=result.status, text_problem=result.problem
        )
        counts[result.status] = counts.get(result.status, 0) + 1
    return counts
