"""The PNRR grant file of a plant (cer.grants) through the API: the application and its
checks, cost items, the decision, disbursement phases with expense documents, and other
public grants. Every write calls the service function the file's web page calls
(cer.grants.services, cer.grants.phases); a refusal comes back as a 400 naming the field.

Every route names the plant: objects inside its file (a cost item, a request) are named in
the body by their id and looked up within that file only.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cer.access import visibility
from cer.accounts.models import TokenScope
from cer.api.permissions import on_object
from cer.api.serializers.grants import (
    ApplicationChangeSerializer,
    CostItemCreateSerializer,
    CostItemSerializer,
    DisbursementCreateSerializer,
    DisbursementSerializer,
    DisbursementStateSerializer,
    ExpenseDocumentCreateSerializer,
    ExpenseDocumentSerializer,
    GrantDecisionSerializer,
    GrantFileSerializer,
    GrantObjectIdSerializer,
    GrantSubmitSerializer,
    OtherGrantCreateSerializer,
    OtherGrantSerializer,
)
from cer.api.views.base import ApiView
from cer.core.models import Municipality
from cer.grants import checks, phases, services
from cer.grants.models import GrantApplication, OtherGrant
from cer.plants.models import Plant

TAG = "grants"


def _refusal(error: services.GrantError) -> exceptions.ValidationError:
    return exceptions.ValidationError(error.errors)


class PlantGrantView(ApiView):
    """A view on one plant's grant file: managers (and the back office) only."""

    access_rule = on_object(
        Plant,
        view="plants.view_plant",
        read="plants.register_plant",
        change="plants.register_plant",
    )
    token_scope = TokenScope.PLANTS_WRITE

    def get_queryset(self) -> Any:
        return visibility.plants(self.request.user, today=self.today())

    def application(self) -> GrantApplication:
        """The plant's file, or a 400 naming `plant` when it has none yet."""
        plant = self.get_object()
        application = GrantApplication.objects.filter(plant=plant).first()
        if application is None:
            raise exceptions.ValidationError({"plant": [_("Open the PNRR file first.")]})
        return application

    def file_response(self, plant: Plant, *, code: int = status.HTTP_200_OK) -> Response:
        application = GrantApplication.objects.filter(plant=plant).first()
        body: dict[str, Any] = {
            "application": None,
            "checks": [],
            "deadlines": [],
            "maximum_grant_eur": None,
            "received_eur": "0.00",
        }
        if application is not None:
            today = self.today()
            maximum = checks.maximum_grant(application, today=today)
            body = {
                "application": application,
                "checks": checks.check_application(application, today=today),
                "deadlines": checks.deadlines(application, today=today),
                "maximum_grant_eur": maximum.grant_eur if maximum else None,
                "received_eur": phases.received_total_eur(application),
            }
        return Response(GrantFileSerializer(body).data, status=code)


class GrantFile(PlantGrantView):
    @extend_schema(
        tags=[TAG],
        responses={200: GrantFileSerializer},
        description=(
            "The plant's PNRR file: the application with its cost items, every check "
            "before “ready to submit”, the deadlines, cercalc's maximum grant and what was "
            "received. `application` is null while the file is not open."
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.file_response(self.get_object())

    @extend_schema(
        tags=[TAG],
        request=None,
        responses={201: GrantFileSerializer},
        description="Open the plant's PNRR file in DRAFT (400 when it already has one).",
    )
    def post(self, request: Request, pk: int) -> Response:
        plant = self.get_object()
        try:
            services.open_application(plant=plant, actor=request.user, now=self.now())
        except services.GrantError as error:
            raise _refusal(error) from error
        return self.file_response(plant, code=status.HTTP_201_CREATED)

    @extend_schema(
        tags=[TAG],
        request=ApplicationChangeSerializer,
        responses={200: GrantFileSerializer},
        description=(
            "Change the application's data (DRAFT or READY; READY goes back to DRAFT). "
            "`municipality` is an ISTAT code."
        ),
    )
    def patch(self, request: Request, pk: int) -> Response:
        application = self.application()
        body = ApplicationChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        if "municipality" in values:
            code = values["municipality"]
            values["municipality"] = None
            if code:
                values["municipality"] = Municipality.objects.filter(pk=code).first()
                if values["municipality"] is None:
                    raise exceptions.ValidationError(
                        {"municipality": [_("No municipality has this ISTAT code.")]}
                    )
        try:
            services.change_application(
                application=application, values=values, actor=request.user, now=self.now()
            )
        except services.GrantError as error:
            raise _refusal(error) from error
        return self.file_response(application.plant)


class GrantFileReady(PlantGrantView):
    @extend_schema(
        tags=[TAG],
        request=None,
        responses={200: GrantFileSerializer},
        description="Run every check and mark the DRAFT file ready to submit; each failing "
        "check comes back under its field with its rule.",
    )
    def post(self, request: Request, pk: int) -> Response:
        application = self.application()
        try:
            services.mark_ready(application=application, actor=request.user, now=self.now())
        except services.GrantError as error:
            raise _refusal(error) from error
        return self.file_response(application.plant)


class GrantFileSubmit(PlantGrantView):
    @extend_schema(
        tags=[TAG],
        request=GrantSubmitSerializer,
        responses={200: GrantFileSerializer},
        description="Record that the READY file was submitted on the GSE portal "
        "(irreversible), with GSE's application number.",
    )
    def post(self, request: Request, pk: int) -> Response:
        application = self.application()
        body = GrantSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.submit(
                application=application,
                gse_reference=body.validated_data["gse_reference"],
                actor=request.user,
                now=self.now(),
            )
        except services.GrantError as error:
            raise _refusal(error) from error
        return self.file_response(application.plant)


class GrantFileDecision(PlantGrantView):
    @extend_schema(
        tags=[TAG],
        request=GrantDecisionSerializer,
        responses={200: GrantFileSerializer},
        description="Record GSE's decision on the SUBMITTED file (irreversible): "
        "`granted_eur` (at most cercalc's maximum; sets the plant's grant share) or a "
        "`refusal_reason`.",
    )
    def post(self, request: Request, pk: int) -> Response:
        application = self.application()
        body = GrantDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.decide(
                application=application,
                granted_eur=body.validated_data.get("granted_eur"),
                refusal_reason=body.validated_data["refusal_reason"],
                actor=request.user,
                now=self.now(),
            )
        except services.GrantError as error:
            raise _refusal(error) from error
        return self.file_response(application.plant)


class GrantCostItems(PlantGrantView):
    @extend_schema(
        tags=[TAG],
        responses={200: CostItemSerializer(many=True)},
        description="The file's cost items (none while the file is not open).",
    )
    def get(self, request: Request, pk: int) -> Response:
        plant = self.get_object()
        application = GrantApplication.objects.filter(plant=plant).first()
        items = application.cost_items.all() if application else []
        return Response(CostItemSerializer(items, many=True).data)

    @extend_schema(
        tags=[TAG],
        request=CostItemCreateSerializer,
        responses={201: CostItemSerializer},
        description="Add a cost item, net of recoverable VAT (DRAFT or READY file).",
    )
    def post(self, request: Request, pk: int) -> Response:
        application = self.application()
        body = CostItemCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            item = services.add_cost_item(
                application=application, actor=request.user, now=self.now(), **body.validated_data
            )
        except services.GrantError as error:
            raise _refusal(error) from error
        return Response(CostItemSerializer(item).data, status=status.HTTP_201_CREATED)


class GrantCostItemRemove(PlantGrantView):
    @extend_schema(
        tags=[TAG],
        request=GrantObjectIdSerializer,
        responses={204: None},
        description="Remove the cost item `id` from a DRAFT or READY file; refused when a "
        "document or another grant relies on it.",
    )
    def post(self, request: Request, pk: int) -> Response:
        application = self.application()
        body = GrantObjectIdSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = application.cost_items.filter(pk=body.validated_data["id"]).first()
        if item is None:
            raise exceptions.ValidationError({"id": [_("No such cost item in this file.")]})
        try:
            services.remove_cost_item(item=item, actor=request.user, now=self.now())
        except services.GrantError as error:
            raise _refusal(error) from error
        return Response(status=status.HTTP_204_NO_CONTENT)


class GrantDisbursements(PlantGrantView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        tags=[TAG],
        responses={200: DisbursementSerializer(many=True)},
        description="The file's disbursement requests with their expense documents.",
    )
    def get(self, request: Request, pk: int) -> Response:
        plant = self.get_object()
        application = GrantApplication.objects.filter(plant=plant).first()
        requests = application.disbursements.prefetch_related("documents") if application else []
        return Response(DisbursementSerializer(requests, many=True).data)

    @extend_schema(
        tags=[TAG],
        request={
            "application/json": DisbursementCreateSerializer,
            "multipart/form-data": DisbursementCreateSerializer,
        },
        responses={201: DisbursementSerializer},
        description="Open a disbursement request in DRAFT on a GRANTED file: ADVANCE, "
        "INTERMEDIATE (with its `progress_report`, multipart) or BALANCE.",
    )
    def post(self, request: Request, pk: int) -> Response:
        application = self.application()
        body = DisbursementCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            phase = phases.create_disbursement(
                application=application, actor=request.user, now=self.now(), **body.validated_data
            )
        except services.GrantError as error:
            raise _refusal(error) from error
        return Response(DisbursementSerializer(phase).data, status=status.HTTP_201_CREATED)


class GrantExpenseDocuments(PlantGrantView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        tags=[TAG],
        request={
            "application/json": ExpenseDocumentCreateSerializer,
            "multipart/form-data": ExpenseDocumentCreateSerializer,
        },
        responses={201: ExpenseDocumentSerializer},
        description="Attach an invoice and its proof of payment to the DRAFT request "
        "`request`, paying the cost item `cost_item`; an invoice already counted elsewhere "
        "is refused naming the other request.",
    )
    def post(self, request: Request, pk: int) -> Response:
        application = self.application()
        body = ExpenseDocumentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        phase = application.disbursements.filter(pk=values.pop("request")).first()
        if phase is None:
            raise exceptions.ValidationError({"request": [_("No such request in this file.")]})
        item = application.cost_items.filter(pk=values.pop("cost_item")).first()
        if item is None:
            raise exceptions.ValidationError({"cost_item": [_("No such cost item in this file.")]})
        upload = values.pop("file", None)
        try:
            document = phases.add_expense_document(
                request=phase,
                cost_item=item,
                values=values,
                upload=upload,
                actor=request.user,
                now=self.now(),
            )
        except services.GrantError as error:
            raise _refusal(error) from error
        return Response(ExpenseDocumentSerializer(document).data, status=status.HTTP_201_CREATED)


class GrantDisbursementState(PlantGrantView):
    @extend_schema(
        tags=[TAG],
        request=DisbursementStateSerializer,
        responses={200: DisbursementSerializer},
        description="Move the request `id`: `send` a DRAFT to GSE (checked, irreversible), "
        "record it `paid` (`received_eur`, `received_date`) or `rejected` (`reason`).",
    )
    def post(self, request: Request, pk: int) -> Response:
        application = self.application()
        body = DisbursementStateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        phase = application.disbursements.filter(pk=data["id"]).first()
        if phase is None:
            raise exceptions.ValidationError({"id": [_("No such request in this file.")]})
        actor, now = request.user, self.now()
        try:
            if data["action"] == "send":
                phases.send_disbursement(request=phase, actor=actor, now=now)
            elif data["action"] == "paid":
                phases.record_payment(
                    request=phase,
                    received_eur=data.get("received_eur"),
                    received_date=data.get("received_date"),
                    actor=actor,
                    now=now,
                )
            else:
                phases.reject_disbursement(
                    request=phase, reason=data["reason"], actor=actor, now=now
                )
        except services.GrantError as error:
            raise _refusal(error) from error
        phase.refresh_from_db()
        return Response(DisbursementSerializer(phase).data)


class PlantOtherGrants(PlantGrantView):
    @extend_schema(
        tags=[TAG],
        responses={200: OtherGrantSerializer(many=True)},
        description="Other public grants on the plant and the cost items they cover.",
    )
    def get(self, request: Request, pk: int) -> Response:
        grants = OtherGrant.objects.filter(plant=self.get_object()).prefetch_related("cost_items")
        return Response(OtherGrantSerializer(grants, many=True).data)

    @extend_schema(
        tags=[TAG],
        request=OtherGrantCreateSerializer,
        responses={201: OtherGrantSerializer},
        description="Record another public grant on the plant; a cost item the PNRR "
        "application claims, or one another grant covers, is refused (no double funding).",
    )
    def post(self, request: Request, pk: int) -> Response:
        plant = self.get_object()
        body = OtherGrantCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        ids = data.pop("cost_items")
        application = GrantApplication.objects.filter(plant=plant).first()
        items = list(application.cost_items.filter(pk__in=ids)) if application else []
        if len(items) != len(set(ids)):
            raise exceptions.ValidationError(
                {"cost_items": [_("A cost item that is not in this plant's file.")]}
            )
        try:
            grant = services.add_other_grant(
                plant=plant, cost_items=items, actor=request.user, now=self.now(), **data
            )
        except services.GrantError as error:
            raise _refusal(error) from error
        return Response(OtherGrantSerializer(grant).data, status=status.HTTP_201_CREATED)
