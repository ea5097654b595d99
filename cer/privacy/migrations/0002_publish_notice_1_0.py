"""Publish version 1.0 of the privacy notice (Italian text, GDPR art. 13)."""

import datetime as dt

from django.db import migrations

VERSION = "1.0"
PUBLISHED_AT = dt.datetime(2025, 1, 1, 0, 0, tzinfo=dt.UTC)
TEXT = """\
Informativa sul trattamento dei dati personali (art. 13 del Regolamento UE 2016/679)

1. Titolare del trattamento
Titolare è la comunità energetica a cui aderisci, che tratta i tuoi dati tramite la piattaforma CerCollettiva. I dati di contatto del titolare e dell'eventuale responsabile della protezione dei dati sono indicati nello statuto e nella pagina della comunità.

2. Dati trattati
Dati anagrafici e di contatto (nome, codice fiscale, partita IVA, indirizzo, email, PEC, telefono), coordinate bancarie (IBAN), codici dei punti di connessione (POD), dati tecnici degli impianti e misure dell'energia immessa e prelevata.

3. Finalità e basi giuridiche
a) Gestire l'adesione alla comunità e la condivisione dell'energia, compresa la ripartizione degli incentivi: esecuzione del contratto di adesione (art. 6.1.b).
b) Trasmettere i dati al GSE e al gestore di rete come richiesto dalla disciplina dell'autoconsumo diffuso: obbligo di legge (art. 6.1.c).
c) Raccogliere misure orarie di dettaglio dai tuoi dispositivi: consenso (art. 6.1.a), facoltativo e revocabile.
d) Inviarti notizie e inviti della comunità: consenso (art. 6.1.a), facoltativo e revocabile.

4. Destinatari
GSE, gestori di rete, istituti bancari per i pagamenti, consulenti della comunità vincolati alla riservatezza, il fornitore che ospita la piattaforma. I dati non sono diffusi. Gli altri soci vedono solo i dati aggregati della comunità, mai i tuoi dati personali.

5. Conservazione
Per la durata dell'adesione e, dopo la sua cessazione, per il tempo richiesto dagli obblighi contabili e fiscali (di norma dieci anni).

6. I tuoi diritti
Puoi chiedere accesso, rettifica, cancellazione, limitazione e portabilità dei dati, opporti al trattamento e revocare in ogni momento i consensi facoltativi, senza effetto sui trattamenti già svolti. Puoi proporre reclamo al Garante per la protezione dei dati personali.
"""


def publish(apps, schema_editor):
    PrivacyNotice = apps.get_model("privacy", "PrivacyNotice")
    PrivacyNotice.objects.get_or_create(
        version=VERSION, defaults={"published_at": PUBLISHED_AT, "text": TEXT}
    )


def unpublish(apps, schema_editor):
    apps.get_model("privacy", "PrivacyNotice").objects.filter(
        version=VERSION, consents__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]

    operations = [migrations.RunPython(publish, unpublish)]
