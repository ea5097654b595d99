"""Collecting money from members: payment requests, SEPA direct debits, pagoPA notices."""
