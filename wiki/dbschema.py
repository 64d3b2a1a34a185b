"""The tables of the shared database (accounts and the workshop around the text),
described once for SQLAlchemy Core. Page content never lives here: it is in git.

Queries build on these `Table` objects, so one statement runs on SQLite and on
PostgreSQL; what the two engines do differently is in wiki/dbdialect.py.
Schema changes are Alembic migrations (wiki/migrations/); a new column goes in
a migration and here.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from wiki.dbdialect import NoCase

metadata = MetaData()

# Ids are INTEGER: 32 bits on PostgreSQL. A larger id names no row, and a store or view
# checks it against this before asking (PostgreSQL would refuse the query).
MAX_ID = 2**31 - 1

ROLES = "role IN ('reader', 'participant', 'facilitator')"


def _user(name: str = "user_id", nullable: bool = False, ondelete: str | None = "CASCADE",
          **kw: object) -> Column[int]:
    return Column(name, Integer, ForeignKey("users.id", ondelete=ondelete),
                  nullable=nullable, **kw)  # type: ignore[arg-type]


# An account: who someone is and how they log in. The wiki's own, or (the wikis of a
# --root on one PostgreSQL database) shared by every wiki of the server in
# dbdialect.ACCOUNTS_SCHEMA, with the tokens; their place in a wiki is `members`.
users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", NoCase, nullable=False),
    Column("email", NoCase, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created", Float, nullable=False),
    Column("language", Text, nullable=False, server_default=""),
    Column("session_generation", Integer, nullable=False, server_default=text("0")),
    # NFKC and case-folded (wiki/passwords.name_key): look-alike names collide here.
    Column("name_key", Text, nullable=False, server_default=""),
    # Named: PostgreSQL would call the name's constraint users_name_key, like this index.
    UniqueConstraint("name", name="users_name_unique"),
    UniqueConstraint("email", name="users_email_unique"),
    Index("users_name_key", "name_key", unique=True),
)

# Who belongs to this wiki, and as what: roles and deactivation are per wiki.
members = Table(
    "members", metadata,
    _user(primary_key=True),
    Column("role", Text, CheckConstraint(ROLES), nullable=False),
    Column("active", Integer, nullable=False, server_default=text("1")),
    Column("joined", Float, nullable=False),
)

tokens = Table(
    "tokens", metadata,
    Column("id", Integer, primary_key=True),
    _user(),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("label", Text, nullable=False),
    Column("created", Float, nullable=False),
    Column("last_used", Float),
)

# Events per key in a sliding window (wiki/ratelimit.py); the name is the first use.
login_failures = Table(
    "login_failures", metadata,
    Column("key", Text, nullable=False),
    Column("at", Float, nullable=False),
    Index("login_failures_key", "key", "at"),
)

pushes = Table(
    "pushes", metadata,
    Column("id", Integer, primary_key=True),
    _user(nullable=True, ondelete="SET NULL"),
    Column("pusher", Text, nullable=False),
    Column("pusher_email", Text, nullable=False),
    Column("old", Text, nullable=False),
    Column("new", Text, nullable=False),
    Column("at", Float, nullable=False),
)

pushed_commits = Table(
    "pushed_commits", metadata,
    Column("revision", Text, primary_key=True),
    Column("push_id", Integer, ForeignKey("pushes.id", ondelete="CASCADE"), nullable=False),
)

invites = Table(
    "invites", metadata,
    Column("code", Text, primary_key=True),
    Column("role", Text, CheckConstraint(ROLES), nullable=False),
    _user("created_by", nullable=True, ondelete="SET NULL"),
    Column("created", Float, nullable=False),
    Column("expires", Float, nullable=False),
    Column("max_uses", Integer, nullable=False),
    Column("uses", Integer, nullable=False, server_default=text("0")),
    Column("revoked", Integer, nullable=False, server_default=text("0")),
)

comments = Table(
    "comments", metadata,
    Column("id", Integer, primary_key=True),
    Column("page", NoCase, nullable=False),
    Column("parent", Integer, ForeignKey("comments.id", ondelete="CASCADE")),
    _user(ondelete=None),
    Column("body", Text, nullable=False),
    Column("created", Float, nullable=False),
    Column("edited", Float),
    Column("deleted", Integer, nullable=False, server_default=text("0")),
    Column("hidden_reason", Text),
    _user("hidden_by", nullable=True, ondelete=None),
    Column("hidden_at", Float),
    # A passage comment's anchor (wiki/passages.py) and resolving.
    Column("anchor_quote", Text),
    Column("anchor_revision", Text),
    Column("anchor_start", Integer),
    Column("anchor_end", Integer),
    Column("anchor_before", Text),
    Column("anchor_after", Text),
    Column("resolved_at", Float),
    _user("resolved_by", nullable=True, ondelete=None),
    Index("comments_page", "page", "created"),
    Index("comments_user", "user_id", "created"),
)

comment_reports = Table(
    "comment_reports", metadata,
    Column("comment_id", Integer, ForeignKey("comments.id", ondelete="CASCADE"),
           primary_key=True),
    _user(primary_key=True),
    Column("reason", Text, nullable=False),
    Column("created", Float, nullable=False),
)

reactions = Table(
    "reactions", metadata,
    Column("target", NoCase, primary_key=True),  # 'page:<name>' or 'comment:<id>'
    _user(primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("created", Float, nullable=False),
)

presence = Table(
    "presence", metadata,
    Column("page", NoCase, primary_key=True),
    _user(primary_key=True),
    Column("dirty", Integer, nullable=False, server_default=text("0")),
    Column("since", Float, nullable=False),
    Column("seen", Float, nullable=False),
)

drafts = Table(
    "drafts", metadata,
    Column("page", NoCase, primary_key=True),
    _user(primary_key=True),
    Column("markdown", Text, nullable=False),
    Column("base_revision", Text, nullable=False, server_default=""),
    Column("saved", Float, nullable=False),
)

frozen = Table(
    "frozen", metadata,
    Column("scope", NoCase, primary_key=True),
    _user(nullable=True, ondelete="SET NULL"),
    Column("at", Float, nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("sid_hash", Text, primary_key=True),
    _user(),
    Column("created", Float, nullable=False),
    Column("expires", Float, nullable=False),
    Index("sessions_user", "user_id"),
)

wiki_settings = Table(
    "wiki_settings", metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

password_resets = Table(
    "password_resets", metadata,
    Column("secret_hash", Text, primary_key=True),
    _user(),
    _user("created_by", nullable=True, ondelete="SET NULL"),
    Column("created", Float, nullable=False),
    Column("expires", Float, nullable=False),
    Column("used", Float),
    Index("password_resets_user", "user_id"),
)

# Where each passage anchor sits in the page blob it last met: a cache of git.
passage_places = Table(
    "passage_places", metadata,
    Column("comment_id", Integer, ForeignKey("comments.id", ondelete="CASCADE"),
           primary_key=True),
    Column("blob", Text, nullable=False),
    Column("start", Integer),
    Column("end", Integer),
)

notifications = Table(
    "notifications", metadata,
    Column("id", Integer, primary_key=True),
    _user(),
    Column("kind", Text, nullable=False),
    Column("page", NoCase, nullable=False),
    _user("actor_id", nullable=True, ondelete="SET NULL"),
    Column("summary", Text, nullable=False, server_default=""),
    Column("link", Text, nullable=False, server_default=""),
    Column("created", Float, nullable=False),
    Column("read", Float),
    Column("mail", Integer, nullable=False, server_default=text("0")),
    Index("notifications_user", "user_id", "created"),
    Index("notifications_unread", "user_id", sqlite_where=text("read IS NULL"),
          postgresql_where=text("read IS NULL")),
    Index("notifications_mail", "user_id", sqlite_where=text("mail = 1"),
          postgresql_where=text("mail = 1")),
)

page_follows = Table(
    "page_follows", metadata,
    Column("page", NoCase, primary_key=True),
    _user(primary_key=True),
    Column("created", Float, nullable=False),
)

notify_settings = Table(
    "notify_settings", metadata,
    _user(primary_key=True),
    Column("email", Text, CheckConstraint("email IN ('none', 'immediate', 'digest')"),
           nullable=False),
)

mail_outbox = Table(
    "mail_outbox", metadata,
    Column("id", Integer, primary_key=True),
    _user(nullable=True),
    Column("recipient", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("html", Text, nullable=False, server_default=""),
    Column("created", Float, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_try", Float, nullable=False),
    Column("sent", Float),
    Column("error", Text, nullable=False, server_default=""),
    Index("mail_outbox_due", "next_try", sqlite_where=text("sent IS NULL"),
          postgresql_where=text("sent IS NULL")),
)

suggestions = Table(
    "suggestions", metadata,
    Column("id", Integer, primary_key=True),
    Column("page", NoCase, nullable=False),
    Column("base", Text, nullable=False),
    Column("commit_id", Text, nullable=False, server_default=""),
    _user(ondelete=None),
    Column("note", Text, nullable=False, server_default=""),
    Column("state", Text,
           CheckConstraint("state IN ('open', 'accepted', 'rejected', 'conflict')"),
           nullable=False, server_default="open"),
    Column("comment_id", Integer, ForeignKey("comments.id", ondelete="SET NULL")),
    _user("decided_by", nullable=True, ondelete=None),
    Column("reason", Text, nullable=False, server_default=""),
    Column("revision", Text, nullable=False, server_default=""),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("decided", Float),
    Index("suggestions_page", "page", "state"),
)

# A counter per page that every change to its comments, reports and reactions moves
# on, by triggers (wiki/dbdialect.py), so a rendered comment section is reused while
# its page's stamp stands (wiki/views/discussion_render.py).
discussion_stamps = Table(
    "discussion_stamps", metadata,
    Column("page", NoCase, primary_key=True),
    Column("stamp", Integer, nullable=False),
)
