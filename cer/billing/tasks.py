"""The statement PDFs of a distribution, bundled in one ZIP file in the background.

`request_statement_pdfs` is what the run page's "all statements" link calls: without
workers it returns the ZIP at once; with them (TASKS_ON_CELERY) it records the request
(cer/core/background.py), a worker renders every current statement of the distribution
with the same renderer as the single statement's page, and the person downloads the
bundle from the task's page. Keyed by the distribution, the versions of its statements
and who asked: a second click while the first still waits is the same bundle, and a
corrected statement makes a new one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from typing import Any

from django.utils.translation import gettext as _

from cer.billing import explain, pdf
from cer.billing.models import Statement, StatementStatus
from cer.billing.statements import pdf_file_stem
from cer.core import background, formatting
from cer.core.models import TaskRecord
from cer.distribution.models import Distribution

TASK = "billing.statement_pdfs"


def _current(distribution: Distribution) -> list[Statement]:
    return list(
        Statement.objects.filter(distribution=distribution, status=StatementStatus.CURRENT)
        .select_related("member", "configuration__community")
        .order_by("member_id", "version", "pk")
    )


def bundle_name(distribution: Distribution) -> str:
    return f"statements-{distribution.run.month:%Y-%m}-{distribution.pk}"


def statement_pdfs_zip(distribution: Distribution) -> bytes:
    """One PDF per current statement of the distribution, in a ZIP."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for statement in _current(distribution):
            archive.writestr(
                f"{pdf_file_stem(statement)}.pdf", pdf.statement_pdf(explain.figures(statement))
            )
    return buffer.getvalue()


def request_statement_pdfs(
    *, distribution: Distribution, actor: Any, now: dt.datetime
) -> bytes | TaskRecord:
    """The ZIP now (no workers), or the record of its task (workers)."""
    if not background.on_celery():
        return statement_pdfs_zip(distribution)
    versions = ",".join(f"{s.pk}" for s in _current(distribution))
    digest = hashlib.sha256(versions.encode()).hexdigest()[:16]
    return background.submit(
        name=TASK,
        key=f"{TASK}:{distribution.pk}:{digest}:{actor.pk}",
        arguments={
            # Stored as text in the language of the request: the month in words.
            "title": _("Statements of %(month)s")
            % {"month": formatting.month(distribution.run.month)},
            "distribution": distribution.pk,
        },
        actor=actor,
        now=now,
    )


@background.handler(TASK)
def build_statement_pdfs(arguments: dict[str, Any]) -> background.Outcome:
    distribution = Distribution.objects.select_related("run").get(pk=arguments["distribution"])
    content = statement_pdfs_zip(distribution)
    return background.Outcome(
        result={"content_type": "application/zip", "statements": len(_current(distribution))},
        file_name=f"{bundle_name(distribution)}.zip",
        content=content,
    )
