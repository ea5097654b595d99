"""The document archive: documents, their versions, uploads."""

from __future__ import annotations

from rest_framework import serializers

from cer.documents.models import Document, DocumentKind, DocumentVersion


class DocumentVersionSerializer(serializers.ModelSerializer):
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
    file = serializers.FileField(help_text="PDF, DOCX, ODT, PNG or JPEG, by content.")
    note = serializers.CharField(max_length=200, required=False)


class SeedDocumentUploadSerializer(DocumentUploadSerializer):
    community = serializers.IntegerField()
