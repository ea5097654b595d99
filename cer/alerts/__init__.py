"""Anomaly and threshold alerts for the referente: rules over readings, plants and money."""
