"""Used SAML message IDs are forgotten a day after their messages expired, not before."""

from __future__ import annotations

import datetime as dt

from django.db import connection

from cer.core import periodic
from cer.eid.models import IdentityLink, UsedSamlMessage, tax_code_index

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_old_used_ids_are_forgotten_by_the_periodic_job(db):
    for name, expired_hours_ago in (("_old", 30), ("_recent", 2), ("_live", -1)):
        UsedSamlMessage.objects.create(
            message_id=name,
            issuer="https://idp.test.example/",
            used_at=NOW - dt.timedelta(hours=expired_hours_ago + 1),
            expires_at=NOW - dt.timedelta(hours=expired_hours_ago),
        )
    job = next(job for job in periodic.all_jobs() if job.name == "eid.forget_used_messages")
    assert job.run(NOW) == "1 forgotten"
    assert sorted(UsedSamlMessage.objects.values_list("message_id", flat=True)) == [
        "_live",
        "_recent",
    ]


def test_the_tax_code_of_a_link_is_encrypted_and_found_by_its_index(db, django_user_model):
    user = django_user_model.objects.create_user("eid-x")
    IdentityLink.objects.create(
        user=user,
        provider="spid",
        issuer="https://idp.test.example/",
        tax_code=" rssmra85t10a562s ",
        level=2,
        first_login_at=NOW,
        last_login_at=NOW,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT tax_code FROM eid_identitylink")
        (stored,) = cursor.fetchone()
    assert "RSSMRA" not in stored
    found = IdentityLink.objects.get(tax_code_index=tax_code_index("RSSMRA85T10A562S"))
    assert found.tax_code == "RSSMRA85T10A562S"


def test_an_incomplete_configuration_is_reported_at_start_up(settings, tmp_path):
    from cer.eid.checks import eid_configuration

    assert eid_configuration(None) == []  # off: nothing to say
    settings.SPID_ENABLED = True
    settings.SPID_ENTITY_ID = "https://cer.example.org/eid/spid/metadata/"
    settings.SPID_KEY_FILE = str(tmp_path / "missing.key")
    settings.SPID_CERT_FILE = ""
    settings.SPID_IDP_METADATA_FILES = []
    settings.SPID_LEVEL = 4
    messages = [message.msg for message in eid_configuration(None)]
    assert {message.split(": ", 1)[1] for message in messages} == {
        "SPID_CERT_FILE is not set.",
        "SPID_IDP_METADATA_FILES is not set.",
        f"SPID_KEY_FILE: no file at {tmp_path / 'missing.key'}.",
        "SPID_LEVEL must be 1, 2 or 3.",
    }
    assert {message.id for message in eid_configuration(None)} == {"cer.E040"}
