"""Collect: schedule → fetch → parse → normalise → dedup and emit."""
