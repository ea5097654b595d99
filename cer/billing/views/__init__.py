"""Billing pages, one module per workflow: invoices, statements, disputes and payouts."""
