"""Settlement runs, their hours and jobs, and member statements, as the API shows them.

Energies are kWh strings with three decimals (stored as integer Wh), money is EUR strings
with two decimals exactly as the models hold it, instants are ISO 8601 with their offset.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cer.api.fields import KwhField, StrictFieldsMixin
from cer.billing.models import LineKind, Statement, StatementLine, StatementStatus
from cer.core.converters import is_sane_year
from cer.settlement.models import (
    JobStatus,
    RunMember,
    RunPlant,
    RunStatus,
    SettlementHour,
    SettlementJob,
    SettlementRun,
)

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)


def parse_month_text(value: Any) -> dt.date:
    """Return the first day of a "YYYY-MM" month; ValidationError for anything else."""
    if not isinstance(value, str) or not _MONTH.match(value):
        raise serializers.ValidationError(_("Give the month as YYYY-MM, e.g. 2025-03."))
    year, month = value.split("-")
    if not is_sane_year(int(year)):
        raise serializers.ValidationError(_("Give the month as YYYY-MM, e.g. 2025-03."))
    return dt.date(int(year), int(month), 1)


@extend_schema_field({"type": "string", "pattern": MONTH_PATTERN, "example": "2025-03"})
class MonthField(serializers.Field):
    """A calendar month as "YYYY-MM", held as the first day of the month."""

    def to_representation(self, value: dt.date) -> str:
        return f"{value:%Y-%m}"

    def to_internal_value(self, data: Any) -> dt.date:
        return parse_month_text(data)


def _codes(choices: type[models.TextChoices]) -> serializers.ChoiceField:
    """A read-only code of `choices`, described inline: several models name theirs `status`."""

    @extend_schema_field({"type": "string", "enum": list(choices.values)})
    class CodeField(serializers.ChoiceField):
        pass

    return CodeField(choices=choices.choices, read_only=True)


def _eur(**options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **options)


# --- runs -------------------------------------------------------------------------------


class RunRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    month = MonthField(help_text="The month to settle, YYYY-MM (Europe/Rome calendar).")


class ConfirmField(serializers.BooleanField):
    """`"confirm": true`, required: the caller states it knows the step cannot be undone."""

    def __init__(self, **options: Any) -> None:
        super().__init__(required=True, **options)


class FinaliseRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    confirm = ConfirmField(
        help_text="Must be true: a final run can no longer be recomputed or deleted."
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=(
            "Why a provisional run (missing readings or prices) is made final anyway; "
            "required for such a run, recorded with the caller's name and audited."
        ),
    )


class DistributeRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    confirm = ConfirmField(
        help_text="Must be true: the run's amount is shared out and statements are issued."
    )


class DistributionSerializer(serializers.Serializer):
    """A run's distribution: where the amount comes from, the amount, the members' shares."""

    id = serializers.IntegerField()
    run = serializers.IntegerField(source="run_id")
    policy = serializers.IntegerField(source="policy_id")
    amount_basis = serializers.CharField(help_text="GSE (certified) or SHADOW (our figures).")
    amount_eur = _eur()
    excess_eur = _eur()
    enterprise_eur = _eur()
    enterprise_ceiling_eur = _eur()
    members = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "member": {"type": "integer"},
                    "amount_eur": {"type": "string", "format": "decimal"},
                },
            },
        }
    )
    def get_members(self, distribution: Any) -> list[dict[str, Any]]:
        return [
            {"member": member_id, "amount_eur": f"{amount:.2f}"}
            for member_id, amount in distribution.shares.order_by("member_id").values_list(
                "member_id", "amount_eur"
            )
        ]


class SettlementJobSerializer(serializers.ModelSerializer):
    """A settlement job: the record of its background task (docs/tasks.md)."""

    month = MonthField()
    status = _codes(JobStatus)
    task_id = serializers.CharField(
        read_only=True,
        help_text="The background task's id (empty while none was sent: no workers).",
    )
    attempts = serializers.IntegerField(
        read_only=True,
        help_text="How many times a worker took the job (more than 1 after a retry or "
        "after its worker stopped).",
    )
    started_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When a worker last took the job."
    )
    finished_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it ended, DONE or FAILED."
    )
    error = serializers.CharField(read_only=True, help_text="Why it FAILED; empty otherwise.")

    class Meta:
        model = SettlementJob
        fields = [
            "id",
            "configuration",
            "month",
            "status",
            "task_id",
            "attempts",
            "requested_at",
            "started_at",
            "finished_at",
            "run",
            "created_new_version",
            "error",
        ]
        read_only_fields = fields


class RunSummarySerializer(serializers.ModelSerializer):
    """A run without its per-plant and per-member figures, for lists."""

    month = MonthField()
    status = _codes(RunStatus)
    hours = serializers.IntegerField(help_text="Hours of the month (23, 24 or 25 a day).")
    injected_kwh = KwhField(source="injected_wh")
    withdrawn_kwh = KwhField(source="withdrawn_wh")
    shared_kwh = KwhField(source="shared_wh")
    incentive_eur = _eur()
    valorisation_eur = _eur()
    excess_eur = _eur(help_text="Amount above the 55 %/45 % ceiling [EUR].")
    gse_fees_eur = _eur(
        help_text="Monthly provision for the plants' yearly GSE fees: a rounded twelfth, "
        "December takes the rest of the year's fee [EUR]."
    )

    class Meta:
        model = SettlementRun
        fields = [
            "id",
            "configuration",
            "month",
            "version",
            "status",
            "provisional",
            "previous",
            "hours",
            "injected_kwh",
            "withdrawn_kwh",
            "shared_kwh",
            "incentive_eur",
            "valorisation_eur",
            "excess_eur",
            "gse_fees_eur",
            "created_at",
            "finalised_at",
        ]
        read_only_fields = fields


class GapSerializer(serializers.Serializer):
    pod = serializers.CharField()
    count = serializers.IntegerField(help_text="Hours without a reading.")
    ranges = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        help_text="Half-open [start, end) ranges of missing hours, UTC.",
    )


class PointTotalSerializer(serializers.Serializer):
    pod = serializers.CharField()
    injected_kwh = KwhField()
    withdrawn_kwh = KwhField()


class RunPlantSerializer(serializers.ModelSerializer):
    injected_kwh = KwhField(source="injected_wh")
    shared_kwh = KwhField(source="shared_wh")
    incentivised_kwh = KwhField(source="incentivised_wh")
    incentive_eur = _eur()
    gse_fee_eur_per_year = _eur()

    class Meta:
        model = RunPlant
        fields = [
            "plant",
            "owner",
            "injected_kwh",
            "shared_kwh",
            "incentivised_kwh",
            "incentive_eur",
            "gse_fee_eur_per_year",
        ]
        read_only_fields = fields


class RunMemberSerializer(serializers.ModelSerializer):
    injected_kwh = KwhField(source="injected_wh")
    withdrawn_kwh = KwhField(source="withdrawn_wh")
    producer_shared_kwh = KwhField(source="producer_shared_wh")
    consumer_shared_kwh = KwhField(source="consumer_shared_wh")

    class Meta:
        model = RunMember
        fields = [
            "member",
            "category",
            "active_hours",
            "injected_kwh",
            "withdrawn_kwh",
            "producer_shared_kwh",
            "consumer_shared_kwh",
        ]
        read_only_fields = fields


class RunDetailSerializer(RunSummarySerializer):
    """A run with its inputs' fingerprints, its gaps and warnings, plants and members."""

    point_totals = serializers.SerializerMethodField()
    gaps = GapSerializer(many=True)
    unpriced_hours = serializers.ListField(
        child=serializers.CharField(), help_text="UTC starts of hours without a zonal price."
    )
    warnings = serializers.ListField(child=serializers.CharField())
    parameter_versions = serializers.JSONField(
        help_text="The dated parameter rows the run used, and the engine's defaults."
    )
    changes = serializers.JSONField(
        help_text="What differs from the previous version (empty for version 1)."
    )
    plants = RunPlantSerializer(many=True, source="plant_rows")
    members = RunMemberSerializer(many=True, source="member_rows")

    class Meta(RunSummarySerializer.Meta):
        fields = [
            *RunSummarySerializer.Meta.fields,
            "inputs_hash",
            "readings_hash",
            "parameter_versions",
            "point_totals",
            "gaps",
            "unpriced_hours",
            "warnings",
            "changes",
            "plants",
            "members",
        ]
        read_only_fields = fields

    @extend_schema_field(PointTotalSerializer(many=True))
    def get_point_totals(self, run: SettlementRun) -> list[dict[str, Any]]:
        rows = [
            {"pod": pod, "injected_kwh": totals[0], "withdrawn_kwh": totals[1]}
            for pod, totals in sorted(run.point_totals.items())
        ]
        return PointTotalSerializer(rows, many=True).data  # type: ignore[return-value]


class SettlementHourSerializer(serializers.ModelSerializer):
    hour_start = serializers.DateTimeField(help_text="Start of the hour, ISO 8601 with offset.")
    injected_kwh = KwhField(source="injected_wh")
    withdrawn_kwh = KwhField(source="withdrawn_wh")
    shared_kwh = KwhField(source="shared_wh")
    price_eur_per_mwh = serializers.DecimalField(
        max_digits=12,
        decimal_places=4,
        allow_null=True,
        help_text="Zonal price [EUR/MWh]; null when it was missing.",
    )

    class Meta:
        model = SettlementHour
        fields = ["hour_start", "injected_kwh", "withdrawn_kwh", "shared_kwh", "price_eur_per_mwh"]
        read_only_fields = fields


# --- statements -------------------------------------------------------------------------


class StatementLineSerializer(serializers.ModelSerializer):
    kind = _codes(LineKind)
    amount_eur = _eur()

    class Meta:
        model = StatementLine
        fields = ["id", "position", "kind", "description", "amount_eur"]
        read_only_fields = fields


class StatementEnergySerializer(serializers.Serializer):
    """The member's energies in the month of the statement, and the community's shared one."""

    active_hours = serializers.IntegerField(help_text="Hours of membership in the month.")
    injected_kwh = KwhField()
    withdrawn_kwh = KwhField()
    producer_shared_kwh = KwhField()
    consumer_shared_kwh = KwhField()
    community_shared_kwh = KwhField()


class StatementSerializer(serializers.ModelSerializer):
    month = MonthField()
    status = _codes(StatementStatus)
    amount_eur = _eur()
    community = serializers.IntegerField(source="configuration.community_id")
    run = serializers.IntegerField(source="distribution.run_id")

    class Meta:
        model = Statement
        fields = [
            "id",
            "member",
            "member_name",
            "community",
            "configuration",
            "run",
            "month",
            "version",
            "status",
            "previous",
            "reason",
            "provisional",
            "amount_eur",
            "created_at",
        ]
        read_only_fields = fields


class StatementDetailSerializer(StatementSerializer):
    lines = StatementLineSerializer(many=True)
    energy = serializers.SerializerMethodField()

    class Meta(StatementSerializer.Meta):
        fields = [*StatementSerializer.Meta.fields, "lines", "energy"]
        read_only_fields = fields

    @extend_schema_field(StatementEnergySerializer)
    def get_energy(self, statement: Statement) -> dict[str, Any]:
        run = statement.distribution.run
        row = RunMember.objects.filter(run=run, member_id=statement.member_id).first()
        figures = {
            "active_hours": row.active_hours if row else 0,
            "injected_kwh": row.injected_wh if row else 0,
            "withdrawn_kwh": row.withdrawn_wh if row else 0,
            "producer_shared_kwh": row.producer_shared_wh if row else 0,
            "consumer_shared_kwh": row.consumer_shared_wh if row else 0,
            "community_shared_kwh": run.shared_wh,
        }
        return StatementEnergySerializer(figures).data  # type: ignore[return-value]
