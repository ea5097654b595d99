"""Choices shared by several apps."""

from django.db import models


class Region(models.TextChoices):
    """Italian administrative regions, named as the settlement engine names them.

    The value is the region's usual short name: the photovoltaic correction of the TIP
    is set per administrative region (DM 414/2023, REGULATION.md §4.2). The label is the
    name itself: derived from the member name it would read "Valle D Aosta".
    """

    ABRUZZO = "Abruzzo", "Abruzzo"
    BASILICATA = "Basilicata", "Basilicata"
    CALABRIA = "Calabria", "Calabria"
    CAMPANIA = "Campania", "Campania"
    EMILIA_ROMAGNA = "Emilia-Romagna", "Emilia-Romagna"
    FRIULI_VENEZIA_GIULIA = "Friuli-Venezia Giulia", "Friuli-Venezia Giulia"
    LAZIO = "Lazio", "Lazio"
    LIGURIA = "Liguria", "Liguria"
    LOMBARDIA = "Lombardia", "Lombardia"
    MARCHE = "Marche", "Marche"
    MOLISE = "Molise", "Molise"
    PIEMONTE = "Piemonte", "Piemonte"
    PUGLIA = "Puglia", "Puglia"
    SARDEGNA = "Sardegna", "Sardegna"
    SICILIA = "Sicilia", "Sicilia"
    TOSCANA = "Toscana", "Toscana"
    TRENTINO_ALTO_ADIGE = "Trentino-Alto Adige", "Trentino-Alto Adige"
    UMBRIA = "Umbria", "Umbria"
    VALLE_D_AOSTA = "Valle d'Aosta", "Valle d'Aosta"
    VENETO = "Veneto", "Veneto"
