"""The `cowiki` command line and server entry points (wiring, like app.py)."""
