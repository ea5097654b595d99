"""The drafted statute, regulation and mandate contracts: complete articles per legal form,
the distribution article as the community's policy says, drafts labelled for review, and
mandates downloadable by the referente and the member only."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from decimal import Decimal

import docx
import pytest
from django.urls import reverse
from django.utils import timezone

from cer.communities.models import IncentiveDistribution
from cer.distribution import services as distribution
from cer.documents import drafting
from cer.documents.models import Document
from cer.documents.services import draft_mandate, founding_context
from cer.members.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 1)
# The articles every statute carries, whatever its legal form (issue: a statute a notary
# would start from).
REQUIRED_ARTICLES = (
    "Costituzione e denominazione",
    "Sede",
    "Durata",
    "Scopo e assenza di scopo di lucro",
    "Soci",
    "Ammissione",
    "Diritti e doveri dei soci",
    "Recesso",
    "Esclusione e perdita della qualità di socio",
    "Assemblea dei soci",
    "Quorum e maggioranze",
    "Presidente",
    "Referente e mandato dei soci",
    "Patrimonio e contributi",
    "Esercizio e bilancio",
    "Ripartizione dei benefici",
    "Controversie e arbitrato",
    "Scioglimento e devoluzione del patrimonio",
)
FORM_SPECIFIC = {
    "ASSOCIATION": ("Consiglio direttivo", "Revisore dei conti", "artt. 36 e seguenti"),
    "RECOGNISED_ASSOCIATION": ("Consiglio direttivo", "Revisore dei conti", "D.P.R. 10 febbraio"),
    "THIRD_SECTOR": ("Consiglio direttivo", "Organo di controllo e revisione legale", "art. 9 CTS"),
    "COOPERATIVE": ("Consiglio di amministrazione", "Collegio sindacale e revisione", "2514"),
}


def statute(community) -> list[drafting.Block]:
    return drafting.draft("STATUTE", founding_context(community=community, today=TODAY))


def article(blocks: list[drafting.Block], title: str) -> str:
    """The text of the article called `title`, up to the next heading."""
    text, inside = [], False
    for block in blocks:
        if block.kind in ("heading", "section"):
            inside = block.kind == "heading" and block.text.endswith(f"— {title}")
        elif inside:
            text.append(block.text)
    return "\n".join(text)


def set_policy(community, *, pots, components, valid_from=dt.date(2024, 9, 1)):
    return distribution.set_policy(
        community=community,
        valid_from=valid_from,
        pots=pots,
        components=components,
        actor=None,
        now=timezone.now(),
    )


@pytest.mark.parametrize("legal_form", sorted(FORM_SPECIFIC))
def test_each_legal_form_renders_every_required_article(community, referente, legal_form):
    community.legal_form = legal_form
    community.save(update_fields=["legal_form"])

    blocks = statute(community)

    headings = [block.text for block in blocks if block.kind == "heading"]
    titles = [heading.split(" — ", 1)[1] for heading in headings]
    for required in REQUIRED_ARTICLES:
        assert required in titles, f"{legal_form}: no article «{required}»"
    heading_title, organ, citation = FORM_SPECIFIC[legal_form]
    assert heading_title in titles and organ in titles
    assert citation in "\n".join(block.text for block in blocks)
    # Articles are numbered in order, with no gap left by the conditional ones.
    numbers = [heading.split(" — ")[0] for heading in headings]
    assert numbers == [f"Art. {n}" for n in range(1, len(headings) + 1)]
    assert len(headings) >= 20
    assert referente.member.display_name in article(blocks, "Referente e mandato dei soci")


def test_the_distribution_article_follows_the_policy_and_two_policies_read_differently(
    community, referente
):
    set_policy(
        community,
        pots=[
            {"code": "fondo", "label": "Fondo sociale", "percent": Decimal("10"), "social": True}
        ],
        components=[
            {
                "basis": "PRODUCERS_CONSUMERS",
                "percent": Decimal("100"),
                "producers_percent": Decimal("30"),
            }
        ],
    )
    first = article(statute(community), "Ripartizione dei benefici")
    other = factories.make_community(name="CER Uguale", fiscal_code="00743110157")
    set_policy(other, pots=[], components=[{"basis": "EQUAL", "percent": Decimal("100")}])

    second = article(statute(other), "Ripartizione dei benefici")

    assert "«Fondo sociale»: il 10,00\u00a0% dell'importo" in first
    assert "per il 30,00\u00a0% ai soci produttori (pari al 27,00\u00a0% dell'importo)" in first
    assert "per il 70,00\u00a0% ai soci consumatori (pari al 63,00\u00a0% dell'importo)" in first
    assert "in vigore dal 1 settembre 2024" in first
    assert "in parti uguali tra i soci" in second
    assert "produttori" not in second.split("Chi è insieme")[0]
    assert first != second


def test_the_regulation_spells_out_the_same_policy(community, referente):
    set_policy(
        community,
        pots=[],
        components=[
            {"basis": "CONTRIBUTION", "percent": Decimal("60")},
            {"basis": "EQUAL", "percent": Decimal("40")},
        ],
    )

    blocks = drafting.draft("REGULATION", founding_context(community=community, today=TODAY))

    text = article(blocks, "Criteri di ripartizione")
    assert "il 60,00\u00a0% del resto (pari al 60,00\u00a0% dell'importo) in proporzione" in text
    assert "il 40,00\u00a0% del resto (pari al 40,00\u00a0% dell'importo) in parti uguali" in text
    for title in (
        "Dati di misura",
        "Procedura e tempi della ripartizione",
        "Contestazioni",
        "Protezione dei dati personali",
        "Quote e corrispettivi",
    ):
        assert article(blocks, title), title


def test_without_a_policy_the_wizard_split_is_rendered(community, referente):
    IncentiveDistribution.objects.create(
        community=community,
        model="WITHDRAWAL_SHARE",
        producers_pct=Decimal("20"),
        consumers_pct=Decimal("75"),
        community_fund_pct=Decimal("5"),
    )
    community.refresh_from_db()

    text = article(statute(community), "Ripartizione dei benefici")

    assert "il 5,00\u00a0% al fondo della Comunità" in text
    assert "il 20,00\u00a0% ai soci produttori" in text
    assert "il 75,00\u00a0% ai soci consumatori, in proporzione alla loro parte" in text


def test_without_policy_nor_split_the_article_asks_the_assembly(community, referente):
    text = article(statute(community), "Ripartizione dei benefici")

    assert "[DA COMPLETARE]" in text
    assert "%" not in text


def test_the_mandate_contract_names_the_member_and_the_referente(community, referente):
    member = factories.make_membership(community).member

    blocks = draft_mandate(community=community, member=member, today=TODAY)

    text = "\n".join(block.text for block in blocks)
    assert blocks[0].text == f"Contratto di mandato al referente — {member.display_name}"
    assert member.fiscal_code in text
    assert referente.member.display_name in text
    assert "mandato senza rappresentanza" in text
    assert "1 giugno 2025" in text


def test_the_docx_opens_and_every_page_carries_the_draft_label(community, referente):
    content = drafting.to_docx(statute(community))

    document = docx.Document(io.BytesIO(content))

    assert document.sections[0].header.paragraphs[0].text == drafting.DRAFT_LABEL
    assert any(p.text.startswith("Art. 1 — ") for p in document.paragraphs)
    assert "PAGE" in document.sections[0].footer._element.xml


def test_the_pdf_carries_the_draft_label_and_page_numbers(community, referente):
    content = drafting.to_pdf(statute(community), title="Statuto")

    assert content.startswith(b"%PDF-")
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext is not installed")
    # A fixed local tool reading bytes this test made.
    text = subprocess.run(  # noqa: S603
        [pdftotext, "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    pages = text.split("\f")
    pages = [page for page in pages if page.strip()]
    assert len(pages) >= 4
    for number, page in enumerate(pages, start=1):
        assert drafting.DRAFT_LABEL in page
        assert re.search(rf"Pagina {number} di {len(pages)}", page)


def test_the_referente_downloads_a_members_mandate_as_docx_and_pdf(client, community, referente):
    membership = factories.make_membership(community)
    client.force_login(referente)

    as_docx = client.get(reverse("documents:mandate_docx", args=[membership.pk]))
    as_pdf = client.get(reverse("documents:mandate_pdf", args=[membership.pk]))

    assert as_docx.status_code == 200
    body = docx.Document(io.BytesIO(as_docx.content))
    assert membership.member.display_name in body.paragraphs[0].text
    assert as_pdf.status_code == 200
    assert as_pdf["Content-Type"] == "application/pdf"
    assert as_pdf.content.startswith(b"%PDF-")


def test_a_member_downloads_their_own_mandate_and_not_anothers(client, community, member_user):
    own = Membership.objects.get(member__user=member_user)
    someone_else = factories.make_membership(community)
    client.force_login(member_user)

    mine = client.get(reverse("documents:mandate_pdf", args=[own.pk]))
    theirs = client.get(reverse("documents:mandate_docx", args=[someone_else.pk]))
    archive = client.get(reverse("documents:archive", args=[community.pk]))

    assert mine.status_code == 200
    assert theirs.status_code == 403
    page = archive.content.decode()
    assert reverse("documents:mandate_pdf", args=[own.pk]) in page
    assert reverse("documents:mandate_pdf", args=[someone_else.pk]) not in page


def test_an_outsider_cannot_download_a_mandate(client, community, outsider):
    membership = factories.make_membership(community)
    client.force_login(outsider)

    response = client.get(reverse("documents:mandate_pdf", args=[membership.pk]))

    assert response.status_code == 403


def test_the_referente_drafts_the_statute_again_after_the_policy_changed(
    client, community, referente
):
    client.force_login(referente)
    client.post(reverse("documents:redraft", args=[community.pk]))
    set_policy(community, pots=[], components=[{"basis": "EQUAL", "percent": Decimal("100")}])

    response = client.post(reverse("documents:redraft", args=[community.pk]))

    assert response.status_code == 302
    drafted = Document.objects.get(community=community, kind="STATUTE")
    assert drafted.versions.count() == 2
    latest = docx.Document(drafted.latest_version.file.open("rb"))
    assert any("in parti uguali tra i soci" in p.text for p in latest.paragraphs)
    assert Document.objects.filter(community=community, kind="REGULATION").count() == 1


def test_a_member_cannot_draft_the_statute_again(client, community, member_user):
    client.force_login(member_user)

    response = client.post(reverse("documents:redraft", args=[community.pk]))

    assert response.status_code == 403
    assert not Document.objects.filter(community=community).exists()


def test_the_wizard_split_made_policy_reads_with_the_wizard_percentages(community, referente):
    from cer.distribution.wizard_policy import policy_from_wizard

    split = IncentiveDistribution.objects.create(
        community=community,
        model="WITHDRAWAL_SHARE",
        producers_pct=Decimal("30"),
        consumers_pct=Decimal("60"),
        community_fund_pct=Decimal("10"),
    )
    policy_from_wizard(
        community=community, distribution=split, actor=None, now=timezone.now(), today=TODAY
    )

    text = article(statute(community), "Ripartizione dei benefici")

    assert "il 10,00\u00a0% dell'importo, destinato a finalità sociali" in text
    assert "per il 33,33\u00a0% ai soci produttori (pari al 30,00\u00a0% dell'importo)" in text
    assert "per il 66,67\u00a0% ai soci consumatori (pari al 60,00\u00a0% dell'importo)" in text


def test_the_statute_drafted_by_the_wizard_spells_out_the_wizards_split(client):
    from django.contrib.auth.models import User

    from cer.communities.models import Community
    from tests.constitution import wizard_data
    from tests.constitution.test_wizard import fill, fill_until_review

    client.force_login(User.objects.create_user("fondatrice", "anna@example.org", "x-2025-y"))
    fill_until_review(client)

    fill(client, "review", wizard_data.review_step())

    community = Community.objects.get(name="CER Sole di Spinea")
    statute_version = Document.objects.get(community=community, kind="STATUTE").latest_version
    paragraphs = [p.text for p in docx.Document(statute_version.file.open("rb")).paragraphs]
    text = "\n".join(paragraphs)
    # The wizard asked 20 % to producers, 70 % to consumers, 10 % to the fund.
    assert "il 10,00\u00a0% dell'importo, destinato a finalità sociali" in text
    assert "ai soci produttori (pari al 20,00\u00a0% dell'importo)" in text
    assert "ai soci consumatori (pari al 70,00\u00a0% dell'importo)" in text
    assert "BOZZA DA SOTTOPORRE A REVISIONE PROFESSIONALE" in paragraphs
