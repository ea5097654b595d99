"""The distribution policy page: spare rows of the form may stay blank."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from cer.distribution.models import DistributionPolicy
from tests import factories
from tests.factories.billing import distributed_small

pytestmark = pytest.mark.django_db


def _form(**rows: str) -> dict[str, str]:
    return {
        "valid_from": "2025-09-01",
        "excess_policy": "CORRECT",
        "excess_to_social_percent": "0",
        "missing_data": "PROVISIONAL",
        "pots-TOTAL_FORMS": "4",
        "pots-INITIAL_FORMS": "0",
        "components-TOTAL_FORMS": "3",
        "components-INITIAL_FORMS": "0",
        # What a browser sends for the spare rows: empty fields, an empty select.
        **{f"components-{i}-{f}": "" for i in range(3) for f in ("basis", "percent")},
        **rows,
    }


@pytest.fixture
def referente(client):
    small, _ = distributed_small()
    client.force_login(
        factories.make_user_with_role(small.community, role="REFERENTE", username="r")
    )
    return client, small


def test_a_policy_with_one_row_filled_and_the_others_blank_is_saved(referente):
    client, small = referente
    url = reverse("distribution:policy", kwargs={"pk": small.community.pk})

    response = client.post(
        url,
        _form(**{"components-0-basis": "EQUAL", "components-0-percent": "100"}),
    )

    assert response.status_code == 302
    policy = DistributionPolicy.objects.get(community=small.community, valid_from="2025-09-01")
    assert [(c.basis, c.percent) for c in policy.components.all()] == [("EQUAL", Decimal("100.00"))]
    assert not policy.pots.exists()


def test_a_row_with_a_percentage_but_no_basis_is_refused_naming_the_field(referente):
    client, small = referente
    url = reverse("distribution:policy", kwargs={"pk": small.community.pk})

    with translation.override("en"):
        response = client.post(
            url,
            _form(
                **{
                    "components-0-basis": "EQUAL",
                    "components-0-percent": "60",
                    "components-1-percent": "40",
                }
            ),
            HTTP_ACCEPT_LANGUAGE="en",
        )

    assert response.status_code == 200
    errors = response.context["components"].forms[1].errors
    assert "basis" in errors
    assert DistributionPolicy.objects.filter(community=small.community).count() == 1


def test_the_policy_history_shows_dates_in_words(referente):
    client, small = referente
    url = reverse("distribution:policy", kwargs={"pk": small.community.pk})
    policy = DistributionPolicy.objects.get(community=small.community)

    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")

    assert f"{policy.valid_from.day} " in response.content.decode()
    assert policy.valid_from.isoformat() not in response.content.decode()
