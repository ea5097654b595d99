"""A grid operator's load-curve file imported in the background (docs/tasks.md).

`request_curve_import` is what the upload page calls: without workers it imports at once,
as it always did, and returns the batch; with them it keeps the uploaded file in storage,
records the request (cer/core/background.py) and a worker runs `import_curve_file`,
which writes the batch exactly as the page would. The request is keyed by the community,
the file's SHA-256, its layout and who sent it, so a second click while the first still
waits is the same import; the record's claim keeps a redelivered task from importing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.communities.models import Community
from cer.core import background
from cer.core.models import TaskRecord
from cer.imports import services
from cer.imports.curves import ColumnMapping
from cer.imports.models import ImportBatch

TASK = "imports.curves"
UPLOAD_FOLDER = "tasks/uploads"


def request_curve_import(
    *,
    community: Community,
    data: bytes,
    file_name: str,
    now: dt.datetime,
    kind: str = "auto",
    mapping: dict[str, Any] | None = None,
    actor: Any = None,
) -> ImportBatch | TaskRecord:
    """Import a load-curve file now (no workers: the batch, or ImportRefused) or queue it
    (workers: the QUEUED record, whose result names the batch when it is done)."""
    if not background.on_celery():
        return services.import_curves(
            community=community,
            data=data,
            file_name=file_name,
            now=now,
            kind=kind,
            mapping=ColumnMapping.from_dict(mapping) if mapping else None,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
    digest = hashlib.sha256(data).hexdigest()
    layout = hashlib.sha256(json.dumps([kind, mapping], sort_keys=True).encode()).hexdigest()
    stored = default_storage.save(f"{UPLOAD_FOLDER}/{digest}.bin", ContentFile(data))
    record = background.submit(
        name=TASK,
        key=f"{TASK}:{community.pk}:{digest}:{layout[:16]}:{getattr(actor, 'pk', None)}",
        arguments={
            "title": _("Import of %(file)s") % {"file": file_name},
            "community": community.pk,
            "file": stored,
            "file_name": file_name,
            "kind": kind,
            "mapping": mapping,
            "uploaded_by": actor.pk if getattr(actor, "is_authenticated", False) else None,
        },
        actor=actor,
        now=now,
    )
    if record.arguments.get("file") != stored:  # the same import was already waiting
        default_storage.delete(stored)
    return record


@background.handler(TASK)
def import_curve_file(arguments: dict[str, Any]) -> background.Outcome:
    """Import the stored file into the community's readings; the batch is the result."""
    community = Community.objects.get(pk=arguments["community"])
    with default_storage.open(arguments["file"], "rb") as stored:
        data = stored.read()
    uploaded_by = get_user_model().objects.filter(pk=arguments.get("uploaded_by") or 0).first()
    mapping = arguments.get("mapping")
    try:
        batch = services.import_curves(
            community=community,
            data=data,
            file_name=arguments["file_name"],
            now=timezone.now(),
            kind=arguments.get("kind", "auto"),
            mapping=ColumnMapping.from_dict(mapping) if mapping else None,
            uploaded_by=uploaded_by,
        )
    except services.ImportRefused as refusal:
        default_storage.delete(arguments["file"])
        raise background.TaskRefused(
            _("The file was refused: %(reason)s") % {"reason": refusal.batch.message},
            result={"batch": refusal.batch.pk, "next_url": _batch_url(refusal.batch)},
        ) from None
    default_storage.delete(arguments["file"])
    return background.Outcome(result={"batch": batch.pk, "next_url": _batch_url(batch)})


def _batch_url(batch: ImportBatch) -> str:
    url = reverse("imports:curve_upload", kwargs={"community_id": batch.community_id})
    return f"{url}?batch={batch.pk}"
