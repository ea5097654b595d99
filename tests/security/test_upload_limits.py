"""Uploaded ZIP containers (DOCX, ODT) are checked in chunks under hard limits, never inflated."""

from __future__ import annotations

import functools
import io
import os
import struct
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from cer.documents import archives, drafting
from cer.documents.archives import MAX_ENTRIES, ArchiveRefused, inspect_zip
from cer.documents.models import DocumentVersion
from cer.documents.services import UploadRefused, check_upload
from tests.api.conftest import assert_error, client_for

MIB = 1024 * 1024
DOCX_PARTS = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def make_zip(entries: dict[str, bytes | int], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP with the given entries; an int is that many zero bytes, written 1 MiB at a time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method, compresslevel=9) as archive:
        for name, data in entries.items():
            if isinstance(data, bytes):
                archive.writestr(name, data)
                continue
            with archive.open(name, "w", force_zip64=False) as stream:
                for _ in range(data // MIB):
                    stream.write(bytes(MIB))
    return buffer.getvalue()


@functools.cache
def docx_bomb() -> bytes:
    """A DOCX of about 100 KB whose document part is 100 MiB of zeros."""
    return make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": 100 * MIB})


def odt_bytes() -> bytes:
    return make_zip(
        {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"},
        method=zipfile.ZIP_STORED,
    )


def xlsx_bytes() -> bytes:
    workbook = Workbook()
    workbook.active.append(["Mese", "Importo"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def _fields(name: str, content: bytes) -> dict[str, object]:
    return {
        "kind": "MINUTES",
        "title": "Verbale assemblea",
        "document_date": "2025-03-30",
        "file": _upload(name, content),
    }


# --- through HTTP -----------------------------------------------------------------------


def test_the_bomb_is_about_a_hundred_kilobytes():
    assert len(docx_bomb()) < 400 * 1024


@pytest.mark.django_db
def test_a_zip_bomb_is_refused_by_the_web_upload_naming_the_file(client, referente, community):
    client.force_login(referente)

    response = client.post(
        reverse("documents:upload", args=[community.pk]), _fields("verbale.docx", docx_bomb())
    )

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["The archive expands beyond 100 MB."]
    assert not DocumentVersion.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/documents", "/api/v1/communities/{pk}/documents"])
def test_a_zip_bomb_is_refused_by_the_api_upload_naming_the_file(referente, community, url):
    api = client_for(referente)

    response = api.post(
        url.format(pk=community.pk),
        {"community": community.pk, **_fields("verbale.docx", docx_bomb())},
        format="multipart",
    )

    error = assert_error(response, 400, "invalid")
    # The API speaks the platform's language (Italian by default).
    assert error["fields"]["file"] == ["L'archivio decompresso supera 100 MB."]
    assert not DocumentVersion.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        (
            "statuto.docx",
            drafting.to_docx([drafting.Block("paragraph", "Art. 1")]),
            "wordprocessingml",
        ),
        ("statuto.odt", odt_bytes(), "opendocument.text"),
    ],
)
def test_a_normal_office_file_still_passes_both_uploads(
    client, referente, community, name, content, content_type
):
    client.force_login(referente)

    web = client.post(reverse("documents:upload", args=[community.pk]), _fields(name, content))
    api = client_for(referente).post(
        f"/api/v1/communities/{community.pk}/documents", _fields(name, content), format="multipart"
    )

    assert web.status_code == 302
    assert api.status_code == 201, api.content
    assert all(content_type in v.content_type for v in DocumentVersion.objects.all())
    assert DocumentVersion.objects.count() == 2


# --- each limit -------------------------------------------------------------------------


def _peak_memory_of_check(upload: SimpleUploadedFile) -> tuple[object, int]:
    tracemalloc.start()
    try:
        try:
            outcome: object = check_upload(upload)[1]
        except UploadRefused as refusal:
            outcome = refusal
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return outcome, peak


def test_the_check_of_a_bomb_stays_small_in_memory():
    outcome, peak = _peak_memory_of_check(_upload("verbale.docx", docx_bomb()))

    assert isinstance(outcome, UploadRefused)
    assert peak < 32 * MIB


def test_even_a_bomb_read_to_its_end_is_read_in_small_chunks(settings, monkeypatch):
    # Limits relaxed so that all of its 100 MiB are really decompressed, chunk by chunk.
    settings.UPLOAD_MAX_DECOMPRESSED_BYTES = 200 * MIB
    monkeypatch.setattr(archives, "MAX_RATIO", 10**6)

    outcome, peak = _peak_memory_of_check(_upload("verbale.docx", docx_bomb()))

    assert getattr(outcome, "extension", None) == "docx"
    assert peak < 32 * MIB


def test_a_lone_entry_compressed_more_than_a_hundred_times_is_refused():
    bomb = make_zip({**DOCX_PARTS, "word/media/zeros.bin": 10 * MIB})

    with pytest.raises(ArchiveRefused, match="compressed more than 100 times"):
        inspect_zip(bomb, max_bytes=100 * MIB)


def test_an_archive_expanding_beyond_the_setting_is_refused(settings):
    settings.UPLOAD_MAX_DECOMPRESSED_BYTES = 1 * MIB
    noise = make_zip({**DOCX_PARTS, "word/media/photo.bin": os.urandom(2 * MIB)})

    with pytest.raises(UploadRefused, match="expands beyond 1 MB"):
        check_upload(_upload("statuto.docx", noise))


def test_an_archive_with_too_many_entries_is_refused():
    crowded = make_zip({f"word/part{n}.xml": b"" for n in range(MAX_ENTRIES + 1)})

    with pytest.raises(ArchiveRefused, match="more than 1000 files"):
        inspect_zip(crowded, max_bytes=100 * MIB)


def test_an_archive_lying_about_its_sizes_is_refused_after_reading_what_it_declared():
    name = "word/media/zeros.bin"
    honest = make_zip({**DOCX_PARTS, name: 2 * MIB})
    # Declare 1,000 bytes for the 2 MiB entry, in its local header and the central directory
    # (whose fixed part is 46 bytes long, followed by the name).
    local = zipfile.ZipFile(io.BytesIO(honest)).getinfo(name).header_offset
    central = honest.rindex(name.encode()) - 46
    lying = bytearray(honest)
    struct.pack_into("<I", lying, local + 22, 1000)
    struct.pack_into("<I", lying, central + 24, 1000)

    assert inspect_zip(bytes(lying), max_bytes=100 * MIB) is None


def test_an_entry_in_bzip2_is_not_accepted():
    packed = make_zip({**DOCX_PARTS}, method=zipfile.ZIP_BZIP2)

    assert inspect_zip(packed, max_bytes=100 * MIB) is None


def test_normal_docx_odt_and_xlsx_pass_the_archive_check():
    docx = drafting.to_docx([drafting.Block("paragraph", "Art. 1 " * 2000)])

    for content in (docx, odt_bytes(), xlsx_bytes()):
        assert inspect_zip(content, max_bytes=100 * MIB) is not None
    assert inspect_zip(odt_bytes(), max_bytes=MIB, heads=("mimetype",)).heads == {
        "mimetype": b"application/vnd.oasis.opendocument.text"
    }
