"""The plain SELECT behind the raw COPY view and the psql comparison (no Django import: the runner uses it)."""

from __future__ import annotations

RAW_SQL = (
    "SELECT o.id, o.reference, o.placed_at, o.status, c.name, c.country, o.customer_email, o.total_cents "
    "FROM orders_order o JOIN orders_customer c ON c.id = o.customer_id ORDER BY o.id"
)
