"""The baseline: the schema the hand-made SQLite migrations had reached
(wiki/sqlite_legacy.py), for SQLite and PostgreSQL alike.

Revision ID: 0001
Revises:
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

from wiki import dbdialect
from wiki.migrations import scope

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _table(name: str, *columns: Any) -> None:
    if dbdialect.in_scope(scope(), name):
        op.create_table(name, *columns)


def _index(name: str, table: str, columns: list[str], **options: Any) -> None:
    if dbdialect.in_scope(scope(), table):
        op.create_index(name, table, columns, **options)


def upgrade() -> None:
    """Every table in a wiki with accounts of its own; a root's shared accounts schema
    gets only the account tables, and a wiki of that root everything else (its foreign
    keys find the accounts through the search_path)."""
    dbdialect.prepare_schema(op.get_bind())
    _table('discussion_stamps',
    sa.Column('page', dbdialect.NoCase(), nullable=False),
    sa.Column('stamp', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('page')
    )
    _table('login_failures',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('at', sa.Float(), nullable=False)
    )
    _index('login_failures_key', 'login_failures', ['key', 'at'], unique=False)
    _table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', dbdialect.NoCase(), nullable=False),
    sa.Column('email', dbdialect.NoCase(), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('active', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created', sa.Float(), nullable=False),
    sa.Column('language', sa.Text(), server_default='', nullable=False),
    sa.Column('session_generation', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('name_key', sa.Text(), server_default='', nullable=False),
    sa.CheckConstraint("role IN ('reader', 'participant', 'facilitator')"),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email', name='users_email_unique'),
    sa.UniqueConstraint('name', name='users_name_unique')
    )
    _index('users_name_key', 'users', ['name_key'], unique=True)
    _table('wiki_settings',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    _table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page', dbdialect.NoCase(), nullable=False),
    sa.Column('parent', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created', sa.Float(), nullable=False),
    sa.Column('edited', sa.Float(), nullable=True),
    sa.Column('deleted', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('hidden_reason', sa.Text(), nullable=True),
    sa.Column('hidden_by', sa.Integer(), nullable=True),
    sa.Column('hidden_at', sa.Float(), nullable=True),
    sa.Column('anchor_quote', sa.Text(), nullable=True),
    sa.Column('anchor_revision', sa.Text(), nullable=True),
    sa.Column('anchor_start', sa.Integer(), nullable=True),
    sa.Column('anchor_end', sa.Integer(), nullable=True),
    sa.Column('anchor_before', sa.Text(), nullable=True),
    sa.Column('anchor_after', sa.Text(), nullable=True),
    sa.Column('resolved_at', sa.Float(), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['hidden_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['parent'], ['comments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    _index('comments_page', 'comments', ['page', 'created'], unique=False)
    _index('comments_user', 'comments', ['user_id', 'created'], unique=False)
    _table('drafts',
    sa.Column('page', dbdialect.NoCase(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('markdown', sa.Text(), nullable=False),
    sa.Column('base_revision', sa.Text(), server_default='', nullable=False),
    sa.Column('saved', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('page', 'user_id')
    )
    _table('frozen',
    sa.Column('scope', dbdialect.NoCase(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('scope')
    )
    _table('invites',
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created', sa.Float(), nullable=False),
    sa.Column('expires', sa.Float(), nullable=False),
    sa.Column('max_uses', sa.Integer(), nullable=False),
    sa.Column('uses', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('revoked', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
    sa.CheckConstraint("role IN ('reader', 'participant', 'facilitator')"),
    sa.PrimaryKeyConstraint('code')
    )
    _table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), server_default='', nullable=False),
    sa.Column('created', sa.Float(), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_try', sa.Float(), nullable=False),
    sa.Column('sent', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    _index('mail_outbox_due', 'mail_outbox', ['next_try'], unique=False,
                    sqlite_where=sa.text('sent IS NULL'), postgresql_where=sa.text('sent IS NULL'))
    _table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('page', dbdialect.NoCase(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), server_default='', nullable=False),
    sa.Column('link', sa.Text(), server_default='', nullable=False),
    sa.Column('created', sa.Float(), nullable=False),
    sa.Column('read', sa.Float(), nullable=True),
    sa.Column('mail', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    _index('notifications_mail', 'notifications', ['user_id'], unique=False,
                    sqlite_where=sa.text('mail = 1'), postgresql_where=sa.text('mail = 1'))
    _index('notifications_unread', 'notifications', ['user_id'], unique=False,
                    sqlite_where=sa.text('read IS NULL'), postgresql_where=sa.text('read IS NULL'))
    _index('notifications_user', 'notifications', ['user_id', 'created'], unique=False)
    _table('notify_settings',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.CheckConstraint("email IN ('none', 'immediate', 'digest')"),
    sa.PrimaryKeyConstraint('user_id')
    )
    _table('page_follows',
    sa.Column('page', dbdialect.NoCase(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('page', 'user_id')
    )
    _table('password_resets',
    sa.Column('secret_hash', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created', sa.Float(), nullable=False),
    sa.Column('expires', sa.Float(), nullable=False),
    sa.Column('used', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('secret_hash')
    )
    _index('password_resets_user', 'password_resets', ['user_id'], unique=False)
    _table('presence',
    sa.Column('page', dbdialect.NoCase(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('dirty', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('since', sa.Float(), nullable=False),
    sa.Column('seen', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('page', 'user_id')
    )
    _table('pushes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('pusher', sa.Text(), nullable=False),
    sa.Column('pusher_email', sa.Text(), nullable=False),
    sa.Column('old', sa.Text(), nullable=False),
    sa.Column('new', sa.Text(), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    _table('reactions',
    sa.Column('target', dbdialect.NoCase(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('created', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('target', 'user_id', 'kind')
    )
    _table('sessions',
    sa.Column('sid_hash', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created', sa.Float(), nullable=False),
    sa.Column('expires', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sid_hash')
    )
    _index('sessions_user', 'sessions', ['user_id'], unique=False)
    _table('tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('created', sa.Float(), nullable=False),
    sa.Column('last_used', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    _table('comment_reports',
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('comment_id', 'user_id')
    )
    _table('passage_places',
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('blob', sa.Text(), nullable=False),
    sa.Column('start', sa.Integer(), nullable=True),
    sa.Column('end', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('comment_id')
    )
    _table('pushed_commits',
    sa.Column('revision', sa.Text(), nullable=False),
    sa.Column('push_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['push_id'], ['pushes.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('revision')
    )
    _table('suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page', dbdialect.NoCase(), nullable=False),
    sa.Column('base', sa.Text(), nullable=False),
    sa.Column('commit_id', sa.Text(), server_default='', nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('state', sa.Text(), server_default='open', nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.Column('revision', sa.Text(), server_default='', nullable=False),
    sa.Column('created', sa.Float(), nullable=False),
    sa.Column('updated', sa.Float(), nullable=False),
    sa.Column('decided', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.CheckConstraint("state IN ('open', 'accepted', 'rejected', 'conflict')"),
    sa.PrimaryKeyConstraint('id')
    )
    _index('suggestions_page', 'suggestions', ['page', 'state'], unique=False)
    if scope() != "accounts":
        dbdialect.create_stamp_triggers(op.get_bind())
