"""Files sent to a browser or an API client: always an attachment, with a name we choose.

A download never carries the uploader's file name as is: `polyglot.html` holding a PDF
would be saved, and opened, as a web page. The name is a sanitised stem chosen by the
view and an extension that follows the content type, which for uploads comes from the
sniffed content (cer.documents.services.sniff_type), never from the name.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.http import FileResponse, HttpResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"

EXTENSIONS = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/xml": "xml",
    "application/zip": "zip",
    XLSX: "xlsx",
    DOCX: "docx",
    ODT: "odt",
    "image/png": "png",
    "image/jpeg": "jpg",
}
# CSV has no way to name its encoding inside the file (XML has its declaration).
_TEXT_TYPES = {"text/csv"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_UNSAFE_AT_ENDS = re.compile(r"^[^A-Za-z0-9_-]+|[^A-Za-z0-9_-]+$")
_STEM_LENGTH = 80


def safe_filename(stem: str, content_type: str) -> str:
    """Return `<stem>.<extension>`: the stem reduced to ASCII letters, digits, `-` and `_`.

    The extension is the one of `content_type`; an unknown type gets `.bin`.
    """
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    # Unsafe characters at the ends are dropped rather than turned into `-`, so that a
    # stem ending in a file token keeps the token whole (`…-AbC_` stays `…-AbC_`); a
    # leading `-` or `_` goes, since a name starting with `-` reads as an option.
    inner = _UNSAFE_AT_ENDS.sub("", ascii_stem)
    clean = _UNSAFE.sub("-", inner)[:_STEM_LENGTH].lstrip("-_")
    return f"{clean or 'download'}.{EXTENSIONS.get(_media_type(content_type), 'bin')}"


def attachment_response(
    content: bytes | str | Any, *, filename_stem: str, content_type: str
) -> HttpResponse:
    """Return `content` (bytes, text or an open binary file) as an attachment.

    The file name is `safe_filename(filename_stem, content_type)`; the response is never
    stored by a cache and a browser may not second-guess its type. A content type
    without a known extension is sent as `application/octet-stream`.
    """
    media_type = _media_type(content_type)
    if media_type not in EXTENSIONS:
        media_type = "application/octet-stream"
    header = f"{media_type}; charset=utf-8" if media_type in _TEXT_TYPES else media_type
    filename = safe_filename(filename_stem, media_type)
    response: HttpResponse
    if isinstance(content, (bytes, str)):
        response = HttpResponse(content, content_type=header)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        # A streaming response; the access decorators and DRF pass it through unchanged.
        response = FileResponse(  # type: ignore[assignment]
            content, as_attachment=True, filename=filename, content_type=header
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()
