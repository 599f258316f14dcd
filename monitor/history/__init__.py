"""The durable history of events in SQL (SQLite by default, PostgreSQL with DATABASE_URL):
written by a consumer of the tracking change log, read by the monthly and annual reports."""
