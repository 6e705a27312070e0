"""Documents people keep: statements and invoices rendered as files (PDF, CSV)."""
