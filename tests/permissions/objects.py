"""One object of each protected model, inside a given community, for the route matrix.

A view protected by `object_permission(..., Model)` needs an instance of Model here:
add a builder when you protect a view with a new model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models

from cer.communities.models import Community, Configuration
from cer.members.models import Member
from cer.plants.models import ConnectionPoint, Plant
from tests import factories


def _member(community: Community) -> Member:
    return factories.make_user_with_role(community, role="MEMBER", username="matrix-member").member


def _point(community: Community) -> ConnectionPoint:
    return factories.make_connection_point(community, _member(community), has_injection=True)


BUILDERS: dict[type[models.Model], Callable[[Community], Any]] = {
    Community: lambda community: community,
    Configuration: lambda community: community.configurations.first(),
    Member: _member,
    ConnectionPoint: _point,
    Plant: lambda community: factories.make_plant(_point(community)),
}


def sample_object(model: type[models.Model], community: Community) -> Any:
    """Return an instance of `model` that belongs to `community`."""
    try:
        builder = BUILDERS[model]
    except KeyError:
        raise LookupError(
            f"no sample {model.__name__} for the route matrix: add one in {__file__}"
        ) from None
    return builder(community)
