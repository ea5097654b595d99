"""Translating API bodies to and from the models; the rules stay in models and services.

One module per resource, as in cer/api/views/. The resource modules' serializers are
also named here, for the views that address them as `serializers.Name`; settlement and
invoices are imported from their own modules.
"""

from cer.api.serializers.accounts import (
    LoginSerializer,
    MeSerializer,
    PasswordChangeSerializer,
    RecoveryCodesSerializer,
    RefreshSerializer,
    TokenPairSerializer,
    TotpConfirmSerializer,
    TotpEnrolmentSerializer,
)
from cer.api.serializers.audit import (
    AuditEntrySerializer,
)
from cer.api.serializers.base import (
    StrictModelSerializer,
    StrictSerializer,
    request_user,
    run_model_clean,
)
from cer.api.serializers.communities import (
    CommunitySerializer,
    ConfigurationSerializer,
)
from cer.api.serializers.devices import (
    DeviceSecretSerializer,
    DeviceSerializer,
)
from cer.api.serializers.documents import (
    DocumentSearchHitSerializer,
    DocumentSearchQuerySerializer,
    DocumentSerializer,
    DocumentUploadSerializer,
    DocumentVersionSerializer,
    SeedDocumentUploadSerializer,
    SignatureCheckSerializer,
)
from cer.api.serializers.members import (
    MemberCreateSerializer,
    MemberSerializer,
    MembershipIbanSerializer,
    MembershipSerializer,
)
from cer.api.serializers.plants import (
    ConnectionPointSerializer,
    IncentiveStatusSerializer,
    PlantSerializer,
)
from cer.api.serializers.prices import (
    ZonalPriceSerializer,
)
from cer.api.serializers.privacy import (
    ConsentSerializer,
    ErasureOutcomeSerializer,
    ErasureRequestSerializer,
    GiveConsentSerializer,
    PrivacyNoticeSerializer,
    ProcessingActivitySerializer,
    ProcessingRegisterSerializer,
    ReportSerializer,
)
from cer.api.serializers.readings import (
    MAX_READINGS_PER_REQUEST,
    HourlyReadingSerializer,
    PeriodQuerySerializer,
    ReadingInputSerializer,
    ReadingsBulkSerializer,
    ReadingsWrittenSerializer,
)
from cer.api.serializers.tokens import (
    PersonalAccessTokenCreateSerializer,
    PersonalAccessTokenSecretSerializer,
    PersonalAccessTokenSerializer,
)

__all__ = [
    "MAX_READINGS_PER_REQUEST",
    "AuditEntrySerializer",
    "CommunitySerializer",
    "ConfigurationSerializer",
    "ConnectionPointSerializer",
    "ConsentSerializer",
    "DeviceSecretSerializer",
    "DeviceSerializer",
    "DocumentSearchHitSerializer",
    "DocumentSearchQuerySerializer",
    "DocumentSerializer",
    "DocumentUploadSerializer",
    "DocumentVersionSerializer",
    "ErasureOutcomeSerializer",
    "ErasureRequestSerializer",
    "GiveConsentSerializer",
    "HourlyReadingSerializer",
    "IncentiveStatusSerializer",
    "LoginSerializer",
    "MeSerializer",
    "MemberCreateSerializer",
    "MemberSerializer",
    "MembershipIbanSerializer",
    "MembershipSerializer",
    "PasswordChangeSerializer",
    "PeriodQuerySerializer",
    "PersonalAccessTokenCreateSerializer",
    "PersonalAccessTokenSecretSerializer",
    "PersonalAccessTokenSerializer",
    "PlantSerializer",
    "PrivacyNoticeSerializer",
    "ProcessingActivitySerializer",
    "ProcessingRegisterSerializer",
    "ReadingInputSerializer",
    "ReadingsBulkSerializer",
    "ReadingsWrittenSerializer",
    "RecoveryCodesSerializer",
    "RefreshSerializer",
    "ReportSerializer",
    "SeedDocumentUploadSerializer",
    "SignatureCheckSerializer",
    "StrictModelSerializer",
    "StrictSerializer",
    "TokenPairSerializer",
    "TotpConfirmSerializer",
    "TotpEnrolmentSerializer",
    "ZonalPriceSerializer",
    "request_user",
    "run_model_clean",
]
