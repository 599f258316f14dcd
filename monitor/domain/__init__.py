"""The records that cross stages, in one place: events with their deadlines, responses and
history (`events`), and the alert intents tracking writes and notify reads (`alerts`).

Tracking, notify, the web API, exports and metrics all speak these; none of them imports
another stage to get them, and importing them loads no I/O library.
"""
