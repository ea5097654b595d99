"""Choices shared by several apps."""

from django.db import models


class Region(models.TextChoices):
    """Italian administrative regions, named as the settlement engine names them.

    The value is the region's usual short name: the photovoltaic correction of the TIP
    is set per administrative region (DM 414/2023, REGULATION.md §4.2).
    """

    ABRUZZO = "Abruzzo"
    BASILICATA = "Basilicata"
    CALABRIA = "Calabria"
    CAMPANIA = "Campania"
    EMILIA_ROMAGNA = "Emilia-Romagna"
    FRIULI_VENEZIA_GIULIA = "Friuli-Venezia Giulia"
    LAZIO = "Lazio"
    LIGURIA = "Liguria"
    LOMBARDIA = "Lombardia"
    MARCHE = "Marche"
    MOLISE = "Molise"
    PIEMONTE = "Piemonte"
    PUGLIA = "Puglia"
    SARDEGNA = "Sardegna"
    SICILIA = "Sicilia"
    TOSCANA = "Toscana"
    TRENTINO_ALTO_ADIGE = "Trentino-Alto Adige"
    UMBRIA = "Umbria"
    VALLE_D_AOSTA = "Valle d'Aosta"
    VENETO = "Veneto"
