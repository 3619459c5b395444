"""What only PostgreSQL does for an export: cells formatted in SQL, and the session an export's query runs in."""
