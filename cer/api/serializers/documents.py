"""The document archive: documents, their versions, uploads."""

from __future__ import annotations

from rest_framework import serializers

from cer.documents.forms import SIGNATURE_CHOICES
from cer.documents.models import Document, DocumentKind, DocumentVersion, SignatureCheck


class SignatureCheckSerializer(serializers.ModelSerializer):
    """The verification of a signed version: who signed, when, and what holds, in words."""

    summary = serializers.CharField(read_only=True, help_text="The result in words.")

    class Meta:
        model = SignatureCheck
        fields = [
            "format",
            "status",
            "summary",
            "signer_name",
            "tax_code",
            "signing_time",
            "qualified",
            "signers",
            "reasons",
            "content_sha256",
            "checked_at",
        ]
        read_only_fields = fields


class DocumentVersionSerializer(serializers.ModelSerializer):
    signature_checks = SignatureCheckSerializer(many=True, read_only=True)

    class Meta:
        model = DocumentVersion
        fields = [
            "id",
            "number",
            "original_name",
            "content_type",
            "size_bytes",
            "uploaded_at",
            "note",
            "text_status",
            "signature_checks",
        ]
        read_only_fields = fields


class DocumentSerializer(serializers.ModelSerializer):
    versions = DocumentVersionSerializer(many=True, read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "community",
            "kind",
            "title",
            "document_date",
            "created_at",
            "download_url",
            "versions",
        ]
        read_only_fields = fields

    def get_download_url(self, document: Document) -> str:
        return f"/api/v1/documents/{document.pk}/download"


class DocumentUploadSerializer(serializers.Serializer):
    """The multipart body of an upload; validated by the web archive's own form."""

    document = serializers.IntegerField(
        required=False, help_text="Id of the document this file is a new version of."
    )
    kind = serializers.ChoiceField(choices=DocumentKind.choices, required=False)
    title = serializers.CharField(max_length=200, required=False)
    document_date = serializers.DateField(required=False)
    file = serializers.FileField(
        help_text="PDF, DOCX, ODT, PNG or JPEG, by content; a signed file as PDF (PAdES) or "
        ".p7m (CAdES), whose signatures are verified."
    )
    note = serializers.CharField(max_length=200, required=False)
    signed = serializers.BooleanField(
        required=False,
        help_text="The file is signed: verify it even if it carries no signature (then the "
        "check says so). A .p7m or a PDF with signatures is verified without this mark.",
    )
    expected_sha256 = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$",
        required=False,
        help_text="SHA-256 of the version sent for signature; the signed content must match.",
    )


class SeedDocumentUploadSerializer(DocumentUploadSerializer):
    community = serializers.IntegerField()


class DocumentSearchHitSerializer(serializers.Serializer):
    """One document found by the archive search."""

    id = serializers.IntegerField(source="document.pk")
    title = serializers.CharField(source="document.title")
    kind = serializers.ChoiceField(source="document.kind", choices=DocumentKind.choices)
    document_date = serializers.DateField(source="document.document_date")
    version = serializers.IntegerField(
        source="version.number", allow_null=True, help_text="The version that matched."
    )
    snippet = serializers.CharField(
        help_text="Text around the first match, as escaped HTML with the words in <mark>."
    )
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, hit: object) -> str:
        return f"/api/v1/documents/{hit.document.pk}/download"  # type: ignore[attr-defined]


class DocumentSearchQuerySerializer(serializers.Serializer):
    """The search's query parameters (validated by the archive page's own form)."""

    q = serializers.CharField(required=False, help_text="Words, all of which must match.")
    kind = serializers.ChoiceField(choices=DocumentKind.choices, required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    member = serializers.IntegerField(required=False, help_text="Managers only.")
    plant = serializers.IntegerField(required=False, help_text="Managers only.")
    signature = serializers.ChoiceField(
        choices=[code for code, _label in SIGNATURE_CHOICES if code], required=False
    )
