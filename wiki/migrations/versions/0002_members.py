"""Roles and deactivation move from the account to the wiki: `members`.

An account (users) says who someone is and how they log in; `members` says what
they are in this wiki. A wiki with accounts of its own copies every account's
role into it. A wiki of a --root on one PostgreSQL database finds the shared
accounts through its search_path and starts with no members: people join
through an invite or `create-wiki --facilitator`.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from wiki import dbdialect
from wiki.migrations import scope

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The accounts table as 0001 made it, without the two columns that move.
_KEPT = ("id", "name", "email", "password_hash", "created", "language",
         "session_generation", "name_key")


def upgrade() -> None:
    conn = op.get_bind()
    if scope() == "accounts":
        _drop_role_columns(conn)
        return
    op.create_table(
        "members",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("active", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("joined", sa.Float(), nullable=False),
        sa.CheckConstraint("role IN ('reader', 'participant', 'facilitator')"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    if dbdialect.has_own_table(conn, "users"):
        conn.exec_driver_sql("INSERT INTO members (user_id, role, active, joined) "
                             "SELECT id, role, active, created FROM users")
        _drop_role_columns(conn)


def _drop_role_columns(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        op.drop_column("users", "role")
        op.drop_column("users", "active")
        return
    # SQLite cannot drop a column a table CHECK names: rebuild the table (foreign keys
    # are off during migrations, so the other tables' rows stay; their references name
    # "users" and find the new table).
    columns = ", ".join(_KEPT)
    op.create_table(
        "users_new",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", dbdialect.NoCase(), nullable=False),
        sa.Column("email", dbdialect.NoCase(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("language", sa.Text(), server_default="", nullable=False),
        sa.Column("session_generation", sa.Integer(), server_default=sa.text("0"),
                  nullable=False),
        sa.Column("name_key", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email", name="users_email_unique"),
        sa.UniqueConstraint("name", name="users_name_unique"),
    )
    conn.exec_driver_sql(f"INSERT INTO users_new ({columns}) SELECT {columns} FROM users")  # noqa: S608 (fixed names)
    conn.exec_driver_sql("DROP TABLE users")
    conn.exec_driver_sql("ALTER TABLE users_new RENAME TO users")
    op.create_index("users_name_key", "users", ["name_key"], unique=True)
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
    if broken is not None:
        raise RuntimeError(f"moving roles to members broke a reference: {tuple(broken)}")
