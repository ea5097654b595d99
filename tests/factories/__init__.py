"""Builders of test data, one module per app: valid by default, override what a test is about.

`from tests import factories` gives the everyday builders by their plain names
(`factories.make_community`, `factories.make_member`, ...). The larger setups are in
their own modules: `settlement` (a small configuration with readings and prices, stored
runs), `billing` (statements, disputes, payout batches, a distributed month),
`invoices` (the worked invoice example) and `worlds` (one of everything in a community,
for the API and backup tests).
"""

from tests.factories.communities import make_community
from tests.factories.documents import make_document
from tests.factories.identifiers import (
    IBAN,
    SPINEA,
    valid_personal_code,
    valid_pod,
    valid_vat_number,
)
from tests.factories.members import (
    make_application,
    make_invitation,
    make_member,
    make_membership,
    make_user_with_role,
)
from tests.factories.plants import make_connection_point, make_plant

__all__ = [
    "IBAN",
    "SPINEA",
    "make_application",
    "make_community",
    "make_connection_point",
    "make_document",
    "make_invitation",
    "make_member",
    "make_membership",
    "make_plant",
    "make_user_with_role",
    "valid_personal_code",
    "valid_pod",
    "valid_vat_number",
]
