"""Alembic migrations of the shared database (run by wiki/dbmigrate.py)."""


def scope() -> str:
    """Which tables the running migration makes (wiki/dbdialect.account_scope): "all",
    "accounts" or "wiki"."""
    from alembic import op

    config = op.get_context().config
    assert config is not None
    return str(config.attributes["scope"])
