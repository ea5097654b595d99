"""The layers of the code: which package may import which.

Each Django app under ``cer/`` sits on one floor; an app may import an app of its own
floor or of a floor below, never one above. The engine ``cercalc`` is the floor under
everything (it imports no app: ``scripts/check_cercalc_pure.py``), the project package
``config`` the roof over everything (no app imports it). An app's pages, API endpoints
and commands are part of that app and obey its floor; ``cer.api`` is the one face that
stands above the rest.

Read it bottom up, as a reading travels: the ground every app stands on; the nouns
(who, where, which plant, and who may see them); the workflows over nouns; the
readings; the money made from readings; the read sides that show it; the faces.

This table is the one source: ``tests/test_layers.py`` checks the code against it,
``scripts/import_graph.py`` prints the imports that break it, and
``docs/architecture.md`` shows it (a test keeps the page and the table equal).
"""

from __future__ import annotations

LAYER_NAMES: dict[int, str] = {
    0: "engine",
    1: "ground",
    2: "nouns",
    3: "workflows over nouns",
    4: "readings",
    5: "money",
    6: "read sides",
    7: "faces",
    8: "project",
}

LAYER_OF: dict[str, int] = {
    # Pure Python and NumPy: every regulatory calculation.
    "cercalc": 0,
    # Shared helpers, the audit log, and the notification centre any app tells people through.
    "cer.core": 1,
    "cer.audit": 1,
    "cer.notifications": 1,
    # The nouns and the rules about them. `access` holds predicates over memberships and
    # roles and their queryset twins: they read the nouns, and every noun's page asks
    # them, so they stand on the nouns' floor. `accounts` asks the same roles (who needs
    # a second factor); `privacy` keeps consents, which a member gives at onboarding;
    # `incentives` keeps zonal prices and dated parameters keyed by market zone.
    "cer.communities": 2,
    "cer.members": 2,
    "cer.plants": 2,
    "cer.accounts": 2,
    # Login with SPID and CIE: another way into an account, beside the password; it links
    # the identity to a member by tax code, so it stands with accounts and members.
    "cer.eid": 2,
    "cer.access": 2,
    # ...except the twins of the rules about devices and money, on the floors they read.
    "cer.access.readings": 4,
    "cer.access.money": 5,
    "cer.documents": 2,
    "cer.incentives": 2,
    "cer.privacy": 2,
    # A workflow over the nouns: the constitution wizard and its checklist create a
    # community, its members and its documents; no noun needs to know of it.
    "cer.constitution": 3,
    # The PNRR grant file of a plant: application, disbursement phases, other grants; it
    # reads plants, communities and members and sets a plant's grant share through plants.
    "cer.grants": 3,
    # The compliance files: a community's anti-mafia file (from its office holders and the
    # grants on record) and a PNRR plant's DNSH checklist; it reads plants, communities,
    # documents and grants, and the grant file's checks ask it whether DNSH is complete.
    "cer.compliance": 3,
    # Messages from a community's managers to members chosen by filter (who, where, which
    # plant), with replies; sent through the notification centre.
    "cer.communications": 3,
    # Signature workflows: a document version sent to named people (founders, members,
    # anyone by tax code), each signing it qualified or by a one-time code; reads
    # documents, members and communities, and stores the signed file back in the archive.
    "cer.signing": 3,
    # Hourly readings: their one owner and the file imports that feed it.
    "cer.metering": 4,
    "cer.imports": 4,
    # Money made from readings: settlement runs, their distribution, statements and invoices.
    "cer.settlement": 5,
    "cer.distribution": 5,
    "cer.billing": 5,
    # What a community collects from its members: payment requests, SEPA direct-debit
    # mandates and pain.008 files, bank reports, pagoPA notices; reads billing's positions.
    "cer.collections": 5,
    # The community's own accounts: expenses, income from settlement, grants and fees, the
    # yearly budget and the economic report; it reads the money floor and grants.
    "cer.treasury": 5,
    # Read sides: charts and reports over readings and money.
    "cer.dashboards": 6,
    "cer.reports": 6,
    # Alerts for the referente: rules over readings, plants, members and money.
    "cer.alerts": 6,
    # Faces: the REST API, and the demo loader that fills every floor.
    "cer.api": 7,
    "cer.demo": 7,
    # Settings and the root URL map.
    "config": 8,
}


def layer_of(module: str) -> int | None:
    """Return the layer of a dotted module name, or None when the table does not place it."""
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        layer = LAYER_OF.get(".".join(parts[:length]))
        if layer is not None:
            return layer
    return None
