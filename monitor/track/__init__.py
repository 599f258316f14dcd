"""Track: items → events, official items → responses, and each event's deadline clock."""
