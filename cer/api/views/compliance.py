"""The compliance files (cer.compliance) through the API, read only: a community's
anti-mafia file (managers) and a PNRR plant's compliance checklist. Writes stay on the
pages, which confirm each irreversible step."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from cer.access import visibility
from cer.api.permissions import on_object
from cer.api.serializers.compliance import AntimafiaFileSerializer, PlantComplianceSerializer
from cer.api.views.base import ApiView
from cer.communities.models import Community
from cer.compliance import antimafia, plant_checks
from cer.plants.models import Plant

TAG = "compliance"


class CommunityAntimafia(ApiView):
    access_rule = on_object(
        Community, view="communities.view_community", read="communities.manage_community"
    )

    def get_queryset(self) -> Any:
        return visibility.communities(self.request.user, today=self.today())

    @extend_schema(
        tags=[TAG],
        responses={200: AntimafiaFileSerializer},
        description=(
            "The community's anti-mafia file today: whether the grants on record exceed "
            "the threshold (D.Lgs. 159/2011 art. 91), the grants, and each person subject "
            "to checks with their declaration's state and signature check. Managers only."
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        community = self.get_object()
        day = self.today()
        need = antimafia.file_need(community, day=day)
        body = {
            "day": day,
            "required": need.required,
            "total_eur": need.total_eur,
            "threshold_eur": need.threshold.amount_eur if need.threshold else None,
            "threshold_source": need.threshold.source if need.threshold else "",
            "grants": need.grants,
            "subjects": antimafia.subject_rows(community, day=day),
        }
        return Response(AntimafiaFileSerializer(body).data)


class PlantCompliance(ApiView):
    access_rule = on_object(Plant, view="plants.view_plant", read="plants.register_plant")

    def get_queryset(self) -> Any:
        return visibility.plants(self.request.user, today=self.today())

    @extend_schema(
        tags=[TAG],
        responses={200: PlantComplianceSerializer},
        description=(
            "The plant's compliance checklist: the six DNSH objectives, new or regenerated "
            "components and, for biogas and biomass, their criteria, each with its source, "
            "status and evidence documents."
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        plant = self.get_object()
        body = {
            "applies": plant_checks.applies_to(plant),
            "complete": plant_checks.dnsh_complete(plant),
            "items": plant_checks.checklist(plant),
        }
        return Response(PlantComplianceSerializer(body).data)
