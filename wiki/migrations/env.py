"""Alembic's entry: migrations run on the connection wiki/dbmigrate.py hands over,
inside its transaction, so several workers starting at once migrate only once."""

from alembic import context

from wiki.dbdialect import version_schema

connection = context.config.attributes["connection"]
context.configure(connection=connection, transaction_per_migration=False,
                  version_table_schema=version_schema(connection),
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
