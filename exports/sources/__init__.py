"""Where an export's bytes come from: PostgreSQL's COPY when it writes the same bytes, else batches of cells read
through the ORM. :func:`exports.sources.copy.copy_plan` says which, and why not COPY."""
