"""Ready-made messages a referente starts from: welcome, missing IBAN, assembly notice.

Written in Italian and English with the fields of cer/communications/fields.py; the
referente edits them before sending.
"""

from __future__ import annotations

from dataclasses import dataclass

from cer.communications.models import RecipientFilter, ReplyKind


@dataclass(frozen=True)
class ReadyMade:
    title: str
    subject_it: str
    body_it: str
    subject_en: str
    body_en: str
    recipient_filter: str = RecipientFilter.ALL
    reply_kind: str = ReplyKind.NONE


# The texts are the message itself, in both languages side by side: not gettext, since
# each member reads the language of their own copy.
READY_MADE: dict[str, ReadyMade] = {
    "welcome": ReadyMade(
        title="Benvenuto / Welcome",
        subject_it="Benvenuto in {comunita}",
        body_it=(
            "Gentile {nome},\n\nbenvenuto in {comunita}. Le sue utenze fanno parte della "
            "configurazione {configurazione}. Nel portale trova la sua energia condivisa e "
            "i suoi rendiconti.\n\nIl referente"
        ),
        subject_en="Welcome to {community}",
        body_en=(
            "Dear {name},\n\nwelcome to {community}. Your connection points are part of the "
            "configuration {configuration}. The portal shows your shared energy and your "
            "statements.\n\nThe referente"
        ),
        recipient_filter=RecipientFilter.HAND_PICKED,
    ),
    "missing_iban": ReadyMade(
        title="IBAN mancante / Missing IBAN",
        subject_it="{comunita}: ci serve il suo IBAN",
        body_it=(
            "Gentile {nome},\n\nper pagarle la sua quota degli incentivi ci serve l'IBAN "
            "del conto su cui riceverla. Lo indichi rispondendo a questo messaggio entro "
            "{scadenza}.\n\nIl referente di {comunita}"
        ),
        subject_en="{community}: we need your IBAN",
        body_en=(
            "Dear {name},\n\nto pay you your share of the incentives we need the IBAN of the "
            "account to pay it to. Please give it in answer to this message by "
            "{due_date}.\n\nThe referente of {community}"
        ),
        recipient_filter=RecipientFilter.NO_IBAN,
        reply_kind=ReplyKind.IBAN,
    ),
    "assembly": ReadyMade(
        title="Convocazione assemblea / Assembly notice",
        subject_it="Convocazione dell'assemblea di {comunita}",
        body_it=(
            "Gentile {nome},\n\nl'assemblea dei soci di {comunita} è convocata il [data] "
            "alle [ora] presso [luogo], con il seguente ordine del giorno:\n\n1. [punto]\n\n"
            "Il referente"
        ),
        subject_en="Notice of the assembly of {community}",
        body_en=(
            "Dear {name},\n\nthe members' assembly of {community} is called on [date] at "
            "[time] at [place], with this agenda:\n\n1. [item]\n\nThe referente"
        ),
    ),
}
