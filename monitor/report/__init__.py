"""Monthly and annual response reports from the SQL history: XLSX, CSV, JSON and a PNG."""
