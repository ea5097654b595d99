"""Members (natural or legal persons) and their memberships of communities."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cer.core.crypto import EncryptedTextField, blind_index
from cer.core.validators import (
    normalise_code,
    validate_fiscal_code,
    validate_iban,
    validate_personal_fiscal_code,
    validate_vat_number,
)
from cer.members.phones import normalised_or_kept


class PersonKind(models.TextChoices):
    NATURAL = "NATURAL", _("Natural person")
    LEGAL = "LEGAL", _("Legal person")


class MemberCategory(models.TextChoices):
    """Who the member is: it decides control rights, the F exemption and the 55 % rule."""

    HOUSEHOLD = "HOUSEHOLD", _("Household")
    SME = "SME", _("Small or medium enterprise")
    LARGE_ENTERPRISE = "LARGE_ENTERPRISE", _("Large enterprise")
    PUBLIC_BODY = "PUBLIC_BODY", _("Public body or local authority")
    RELIGIOUS_BODY = "RELIGIOUS_BODY", _("Religious body")
    THIRD_SECTOR = "THIRD_SECTOR", _("Third-sector or environmental body")
    RESEARCH_BODY = "RESEARCH_BODY", _("Research or training body")

    @classmethod
    def enterprises(cls) -> frozenset[str]:
        return frozenset({cls.SME, cls.LARGE_ENTERPRISE})


# Each encrypted identifier, the column holding its blind index, and the index purpose.
BLIND_INDEXES = {
    "fiscal_code": ("fiscal_code_index", "member.fiscal_code"),
    "vat_number": ("vat_number_index", "member.vat_number"),
}


def identifier_index(field: str, value: str) -> str:
    """Return the blind index of a tax code or VAT number, normalised first; blank stays blank."""
    code = normalise_code(value)
    if not code:
        return ""
    return blind_index(code, purpose=BLIND_INDEXES[field][1])


class MemberQuerySet(models.QuerySet["Member"]):
    def with_fiscal_code(self, code: str) -> MemberQuerySet:
        """Members whose tax code is `code`, in any case and spacing."""
        return self.filter(fiscal_code_index=identifier_index("fiscal_code", code))

    def with_vat_number(self, code: str) -> MemberQuerySet:
        """Members whose VAT number is `code`, in any case and spacing; none for a blank code."""
        index = identifier_index("vat_number", code)
        if not index:
            return self.none()
        return self.filter(vat_number_index=index)


def display_name_of(kind: str, first_name: str, last_name: str, company_name: str) -> str:
    """The name a member is shown by: a company's name, or a person's first and last name.

    A function of the four fields, so that bulk readers (settlement, statements) can name
    members from `values_list` rows without building a model instance per member.
    """
    if kind == PersonKind.LEGAL:
        return company_name
    return f"{first_name} {last_name}".strip()


class Member(models.Model):
    """A natural or legal person who is, was or will be a member of one or more communities.

    Identity and contact data belong to the person and are shared by every community they
    join; what a community pays them with (the IBAN) belongs to the membership.
    """

    # The person's own data, as a form, the API and the GDPR export list them.
    PERSONAL_FIELDS = (
        "kind",
        "category",
        "first_name",
        "last_name",
        "company_name",
        "fiscal_code",
        "vat_number",
        "email",
        "pec",
        "phone",
        "address",
        "municipality",
    )

    kind = models.CharField(_("kind of person"), max_length=7, choices=PersonKind.choices)
    category = models.CharField(_("category"), max_length=20, choices=MemberCategory.choices)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    # Encrypted at rest; SQL lookups and uniqueness go through the blind indexes below,
    # kept in step by save() (docs/security.md).
    fiscal_code = EncryptedTextField(
        _("tax code"), max_length=16, validators=[validate_fiscal_code]
    )
    vat_number = EncryptedTextField(
        _("VAT number"), max_length=11, blank=True, validators=[validate_vat_number]
    )
    fiscal_code_index = models.CharField(
        _("tax code lookup key"), max_length=64, unique=True, editable=False
    )
    vat_number_index = models.CharField(
        _("VAT number lookup key"), max_length=64, blank=True, db_index=True, editable=False
    )
    email = models.EmailField(_("email"))
    pec = models.EmailField(_("certified email (PEC)"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200)
    municipality = models.ForeignKey(
        "core.Municipality",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("municipality"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member",
        verbose_name=_("user account"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = MemberQuerySet.as_manager()
    blind_indexes: ClassVar[dict[str, tuple[str, str]]] = BLIND_INDEXES

    class Meta:
        ordering = ["last_name", "first_name", "company_name"]
        verbose_name = _("member")
        verbose_name_plural = _("members")

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.sync_indexes()
        # Numbers typed before they were checked reach E.164 when the record is saved.
        self.phone = normalised_or_kept(self.phone)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            # Saving an identifier saves its index with it, or they would drift apart.
            indexes = {BLIND_INDEXES[name][0] for name in update_fields if name in BLIND_INDEXES}
            kwargs["update_fields"] = [*update_fields, *sorted(indexes - set(update_fields))]
        super().save(*args, **kwargs)

    def validate_unique(self, exclude: Any = None) -> None:
        # The unique column is the index, which forms never show: check it for the
        # tax code, so the error names the field the user typed.
        errors: dict[str, list[ValidationError]] = {}
        try:
            super().validate_unique(exclude={*(exclude or ()), "fiscal_code_index"})
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if exclude is None or "fiscal_code" not in exclude:
            self.sync_indexes()
            taken = Member.objects.filter(fiscal_code_index=self.fiscal_code_index).exclude(
                pk=self.pk
            )
            if self.fiscal_code_index and taken.exists():
                errors.setdefault("fiscal_code", []).append(
                    self.unique_error_message(Member, ("fiscal_code",))
                )
        if errors:
            raise ValidationError(errors)

    def sync_indexes(self) -> None:
        """Recompute the blind indexes from the identifiers; call it before bulk_create."""
        for name, (index_name, _purpose) in BLIND_INDEXES.items():
            setattr(self, index_name, identifier_index(name, getattr(self, name)))

    @property
    def display_name(self) -> str:
        return display_name_of(self.kind, self.first_name, self.last_name, self.company_name)

    def clean(self) -> None:
        self.fiscal_code = normalise_code(self.fiscal_code)
        self.vat_number = normalise_code(self.vat_number)
        errors: dict[str, list[ValidationError]] = {}
        if self.kind == PersonKind.NATURAL:
            if not self.first_name:
                errors["first_name"] = [ValidationError(_("A natural person needs a first name."))]
            if not self.last_name:
                errors["last_name"] = [ValidationError(_("A natural person needs a last name."))]
            if self.fiscal_code and len(self.fiscal_code) != 16:
                try:
                    validate_personal_fiscal_code(self.fiscal_code)
                except ValidationError as error:
                    errors["fiscal_code"] = [error]
            if self.category != MemberCategory.HOUSEHOLD and not self.vat_number:
                # A sole trader is a natural person with a VAT number: an enterprise.
                errors["vat_number"] = [
                    ValidationError(
                        _("A natural person who is not a household needs a VAT number.")
                    )
                ]
        elif self.kind == PersonKind.LEGAL:
            if not self.company_name:
                errors["company_name"] = [
                    ValidationError(_("A legal person needs a company name."))
                ]
            if self.category == MemberCategory.HOUSEHOLD:
                errors["category"] = [ValidationError(_("A legal person cannot be a household."))]
        if errors:
            raise ValidationError(errors)


class MembershipRole(models.TextChoices):
    REFERENTE = "REFERENTE", _("Referente")
    ADMINISTRATOR = "ADMINISTRATOR", _("Administrator")
    MEMBER = "MEMBER", _("Member")


class MembershipKind(models.TextChoices):
    CONSUMER = "CONSUMER", _("Consumer")
    PRODUCER = "PRODUCER", _("Producer")
    PROSUMER = "PROSUMER", _("Prosumer")


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active_on(self, day: object) -> MembershipQuerySet:
        """Memberships valid on `day` (periods are half-open: [valid_from, valid_to))."""
        return self.filter(valid_from__lte=day).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=day)
        )

    def not_ended_on(self, day: object) -> MembershipQuerySet:
        """Memberships valid on `day` or starting later: the person belongs or will belong."""
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))

    def payout_ibans(self, *, community_id: int, member_ids: Iterable[int]) -> dict[int, str]:
        """Return each member's IBAN for the community's payouts: their latest membership's.

        A member who left is still paid what was earned before, to the IBAN they gave
        this community; another community's IBAN is never used.
        """
        rows = (
            self.filter(community_id=community_id, member_id__in=list(member_ids))
            .order_by("valid_from", "pk")
            .values_list("member_id", "iban")
        )
        # Later memberships come last and win.
        return dict(rows)


class Membership(models.Model):
    """A member's time in a community, with a role: history is kept, never overwritten.

    The IBAN is the membership's, not the person's: each community pays to the account
    given to it, and a change made in one community cannot redirect another's payouts.
    """

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("member")
    )
    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("community"),
    )
    role = models.CharField(
        _("role"), max_length=13, choices=MembershipRole.choices, default=MembershipRole.MEMBER
    )
    kind = models.CharField(
        _("participation"),
        max_length=8,
        choices=MembershipKind.choices,
        default=MembershipKind.CONSUMER,
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(
        _("valid to"), null=True, blank=True, help_text=_("First day no longer a member.")
    )
    # Encrypted at rest (cer.core.crypto); never filter on it in SQL.
    iban = EncryptedTextField(
        _("IBAN for payouts"), max_length=34, blank=True, validators=[validate_iban]
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["community", "member"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="membership_period_not_empty",
                violation_error_message=_("The end of a membership must come after its start."),
            ),
        ]
        indexes = [models.Index(fields=["community", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.member} — {self.community} ({self.get_role_display()})"

    def clean(self) -> None:
        self.iban = normalise_code(self.iban)


class Invitation(models.Model):
    """An invitation to join a community, sent by email with a single-use, expiring link.

    Only a hash of the token is stored: the link in the email is the sole copy.
    """

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("community"),
    )
    email = models.EmailField(_("email"))
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    # A revoked link stops working at once; the row stays for the record.
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} → {self.community}"

    def is_usable_at(self, moment: object) -> bool:
        return (
            self.used_at is None and self.revoked_at is None and moment < self.expires_at  # type: ignore[operator]
        )

    def status_at(self, moment: object) -> str:
        """Return `used`, `revoked`, `expired` or `waiting`: what a manager may still do."""
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        if moment >= self.expires_at:  # type: ignore[operator]
            return "expired"
        return "waiting"


class ApplicationStatus(models.TextChoices):
    IN_PROGRESS = "IN_PROGRESS", _("Being filled in")
    SUBMITTED = "SUBMITTED", _("Waiting for approval")
    APPROVED = "APPROVED", _("Approved")
    REJECTED = "REJECTED", _("Rejected")


class ApplicationStep(models.TextChoices):
    PROFILE = "PROFILE", _("Personal or company data")
    PRIVACY = "PRIVACY", _("Privacy notice")
    POINTS = "POINTS", _("Connection points")
    DONE = "DONE", _("Sent")


class MembershipApplication(models.Model):
    """An invitee's request to join: their data, their declared PODs, the manager's decision."""

    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        related_name="applications",
        verbose_name=_("community"),
    )
    invitation = models.OneToOneField(
        Invitation,
        on_delete=models.PROTECT,
        related_name="application",
        verbose_name=_("invitation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership_applications",
        verbose_name=_("user"),
    )
    member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("member"),
    )
    status = models.CharField(
        _("status"),
        max_length=11,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.IN_PROGRESS,
    )
    step = models.CharField(
        _("step"), max_length=7, choices=ApplicationStep.choices, default=ApplicationStep.PROFILE
    )
    # [{"pod", "configuration_id", "contracted_power_kw", "has_withdrawal", "has_injection",
    #   "address"}]: turned into ConnectionPoint rows on approval.
    declared_points = models.JSONField(_("declared connection points"), default=list, blank=True)
    # The account the applicant gives this community; copied onto the membership on approval.
    iban = EncryptedTextField(
        _("IBAN for payouts"), max_length=34, blank=True, validators=[validate_iban]
    )
    started_at = models.DateTimeField(_("started at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("membership application")
        verbose_name_plural = _("membership applications")

    def __str__(self) -> str:
        return f"{self.user} → {self.community} ({self.get_status_display()})"
