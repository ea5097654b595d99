"""Builders for the compliance tests: a PNRR plant in Spinea, its referente, office holders,
a local test CA for signed declarations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from cer.compliance import antimafia
from cer.documents import drafting
from tests import factories
from tests.documents import pki as test_pki
from tests.factories.identifiers import valid_personal_code
from tests.grants.helpers import small_in_spinea

# Monday 15 September 2025, 10:00 in Rome.
NOW = dt.datetime(2025, 9, 15, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _english_pages():
    """The tests read the pages' refusals in English (URLs reversed under /en/)."""
    with translation.override("en"):
        yield


@pytest.fixture
def small(db):
    return small_in_spinea()


@pytest.fixture
def referente_of(small):
    user = factories.make_user_with_role(small.community, role="REFERENTE", username="ref-cmp")
    user.email = "referente@example.org"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def client_of(client, referente_of):
    client.force_login(referente_of)
    return client


@pytest.fixture(scope="module")
def pki():
    return test_pki.make_pki()


@pytest.fixture(autouse=True)
def anchors(pki, settings, tmp_path):
    settings.SIGNATURE_TRUST_ANCHORS_DIR = str(pki.write_anchors(tmp_path / "anchors"))
    settings.SIGNATURE_ALLOW_FETCHING = False


@pytest.fixture(scope="module")
def pdf():
    return drafting.to_pdf([drafting.Block("paragraph", "Dichiarazione")], title="Dichiarazione")


def pdf_upload(content: bytes, name: str = "dichiarazione.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def holder(community, *, role="LEGAL_REP", seed=1, name="Mario Rossi", **dates):
    return antimafia.add_office_holder(
        community=community,
        full_name=name,
        tax_code=valid_personal_code(seed),
        role=role,
        valid_from=dates.get("valid_from", dt.date(2024, 9, 12)),
        valid_to=dates.get("valid_to"),
        actor=None,
        now=NOW,
    )


def relative(seed=50, *, birth="1980-05-02", relation="coniuge", name="Lucia Bianchi") -> dict:
    return {
        "full_name": name,
        "tax_code": valid_personal_code(seed),
        "birth_date": birth,
        "relation": relation,
    }
