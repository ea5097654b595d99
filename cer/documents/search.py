"""Archive search: the words of a query inside documents' titles and extracted text.

One entry point, `search_documents(user, community, query, filters)`, used by the archive
page and the API. It starts from the documents the user may see today
(cer.access.visibility.documents: every type for the community's managers, the open types
for its members, nothing of another community), applies the filters, then matches words:

- PostgreSQL: full-text search with the Italian configuration (stemming: "contratti" finds
  "contratto") over title and text, ranked by SearchRank (title words weigh more).
- SQLite: every word must appear, case-insensitively, in the title or the text.

A document matches when any of its versions does; it appears once, with the snippet of its
best version. Snippets are escaped HTML with the matching words in <mark>.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from cer.access import visibility
from cer.documents.models import Document, DocumentVersion

# Results are for reading on a page, not for export: the best ones only.
MAX_RESULTS = 50
MAX_WORDS = 10
SNIPPET_CHARS = 200
# The signature filter's value for documents none of whose versions was ever verified.
UNSIGNED = "UNSIGNED"
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Filters:
    """What narrows a search; every field is optional. `signature` is a SignatureStatus
    value (some version's check has it) or UNSIGNED."""

    kind: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    member_id: int | None = None
    plant_id: int | None = None
    signature: str = ""


@dataclass(frozen=True)
class Hit:
    """One document found, the version that matched best, and its highlighted snippet."""

    document: Document
    version: DocumentVersion | None
    snippet: SafeString


def words_of(query: str) -> list[str]:
    """Split a query into its words (letters and digits), at most MAX_WORDS of them."""
    return [word[:50] for word in _WORD.findall(query or "")][:MAX_WORDS]


def search_documents(
    user: Any,
    community: Any,
    query: str,
    filters: Filters | None = None,
    *,
    today: dt.date | None = None,
) -> list[Hit]:
    """Return the documents of `community` that `user` may see and that match, best first.

    With no words in `query` the filtered documents are listed, newest first.
    """
    today = today or timezone.localdate()
    documents = visibility.documents(user, today=today).filter(community=community)
    documents = _filtered(documents, filters or Filters())
    words = words_of(query)
    if not words:
        listed = documents.order_by("-document_date", "-pk")[:MAX_RESULTS]
        return [Hit(d, d.latest_version, SafeString("")) for d in listed]
    versions = DocumentVersion.objects.filter(document__in=documents).select_related("document")
    if connection.vendor == "postgresql":
        ranked = _postgres(versions, words)
    else:
        ranked = _fallback(versions, words)
    hits: dict[int, Hit] = {}
    for version in ranked:
        if version.document_id in hits:
            continue
        source = version.text or version.document.title
        hits[version.document_id] = Hit(version.document, version, snippet(source, words))
        if len(hits) == MAX_RESULTS:
            break
    return list(hits.values())


def _filtered(documents: QuerySet[Document], filters: Filters) -> QuerySet[Document]:
    if filters.kind:
        documents = documents.filter(kind=filters.kind)
    if filters.date_from:
        documents = documents.filter(document_date__gte=filters.date_from)
    if filters.date_to:
        documents = documents.filter(document_date__lte=filters.date_to)
    if filters.member_id:
        documents = documents.filter(member_id=filters.member_id)
    if filters.plant_id:
        documents = documents.filter(plant_id=filters.plant_id)
    if filters.signature == UNSIGNED:
        documents = documents.exclude(versions__signature_checks__isnull=False)
    elif filters.signature:
        documents = documents.filter(versions__signature_checks__status=filters.signature)
    return documents.distinct()


def _postgres(versions: QuerySet[DocumentVersion], words: list[str]) -> QuerySet[Any]:
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    search = SearchQuery(" ".join(words), config="italian", search_type="plain")
    # Title and text together, so that every word may be in either (as on SQLite).
    vector = SearchVector("document__title", config="italian", weight="A") + SearchVector(
        "text", config="italian", weight="B"
    )
    return (
        versions.annotate(vector=vector)
        .filter(vector=search)
        .annotate(rank=SearchRank(vector, search))
        .order_by("-rank", "-document__document_date", "-number")
    )


def _fallback(versions: QuerySet[DocumentVersion], words: list[str]) -> QuerySet[Any]:
    for word in words:
        versions = versions.filter(Q(text__icontains=word) | Q(document__title__icontains=word))
    return versions.order_by("-document__document_date", "-document_id", "-number")


def _stem(word: str) -> str:
    # A rough Italian stem, for highlighting only: the search itself is the database's.
    word = word.lower()
    return word[: max(4, len(word) - 2)] if len(word) > 4 else word


def snippet(text: str, words: list[str]) -> SafeString:
    """Return about SNIPPET_CHARS of `text` around the first match, escaped, words marked."""
    if not words:
        return escape(text[:SNIPPET_CHARS])
    pattern = re.compile(
        r"\b(?:" + "|".join(re.escape(_stem(w)) for w in words) + r")\w*", re.IGNORECASE
    )
    first = pattern.search(text)
    start = max(0, first.start() - SNIPPET_CHARS // 3) if first else 0
    if start:
        # Begin at a word, not inside one.
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < (first.start() if first else start) else start
    end = min(len(text), start + SNIPPET_CHARS)
    window = text[start:end]
    pieces: list[str] = []
    last = 0
    for match in pattern.finditer(window):
        pieces.append(escape(window[last : match.start()]))
        pieces.append(f"<mark>{escape(match.group())}</mark>")
        last = match.end()
    pieces.append(escape(window[last:]))
    # Each piece is escaped above; only the <mark> tags are ours.
    html = ("…" if start else "") + "".join(pieces) + ("…" if end < len(text) else "")
    return mark_safe(html.replace("\n", " "))  # noqa: S308
