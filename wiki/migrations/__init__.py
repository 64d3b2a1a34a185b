"""Alembic migrations of the shared database (run by wiki/dbmigrate.py)."""
