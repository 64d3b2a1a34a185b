"""The hand-made SQLite migrations from before Alembic, kept so a data dir made by an
older cowiki upgrades itself: wiki/dbmigrate.py applies the ones a file lacks (its
`PRAGMA user_version` counts them), then hands the file to Alembic at the baseline
revision, which is this list's end state.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from wiki.dbdialect import sqlite_triggers
from wiki.passwords import name_key


def _fold_names(conn: sqlite3.Connection) -> None:
    """Look-alike names (issue 'one participant cannot take the workshop down'): a
    `name_key` (NFKC, case-folded) that must be unique. Accounts that already collide
    keep working: the later one gets a key no typed name can match, so it logs in by
    its exact name only."""
    conn.execute("ALTER TABLE users ADD COLUMN name_key TEXT NOT NULL DEFAULT ''")
    seen: set[str] = set()
    for row in conn.execute("SELECT id, name FROM users ORDER BY id").fetchall():
        key = name_key(row["name"])
        key = f"{key}#{row['id']}" if key in seen else key  # '#' is not allowed in names
        seen.add(key)
        conn.execute("UPDATE users SET name_key = ? WHERE id = ?", (key, row["id"]))
    conn.execute("CREATE UNIQUE INDEX users_name_key ON users(name_key)")


def _discussion_stamps(conn: sqlite3.Connection) -> None:
    """A counter per page that every change to its comments, their reports and reactions
    moves on (by triggers, so no write path can forget it): a rendered comment section
    is reused while its page's stamp stands (wiki/views/discussion_render.py)."""
    conn.execute("CREATE TABLE discussion_stamps (page TEXT PRIMARY KEY COLLATE NOCASE,"
                 " stamp INTEGER NOT NULL)")
    for statement in sqlite_triggers():
        conn.execute(statement)


MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT NOT NULL CHECK (role IN ('reader', 'participant', 'facilitator')),
        password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created REAL NOT NULL
    );
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL,
        created REAL NOT NULL,
        last_used REAL
    );
    CREATE TABLE login_failures (
        key TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX login_failures_key ON login_failures(key, at);
    """,
    # git push log (wiki/pushlog.py): who pushed which commits.
    """
    CREATE TABLE pushes (
        id INTEGER PRIMARY KEY,
        user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
        pusher TEXT NOT NULL,
        pusher_email TEXT NOT NULL,
        old TEXT NOT NULL,
        new TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE TABLE pushed_commits (
        revision TEXT PRIMARY KEY,
        push_id INTEGER NOT NULL REFERENCES pushes(id) ON DELETE CASCADE
    );
    """,
    # The workshop around the text (issue 7): invites, comments, reports, reactions,
    # presence, drafts and frozen scopes. Pages are keyed by name, so comments of a
    # deleted page stay reachable from its history.
    """
    CREATE TABLE invites (
        code TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('reader', 'participant', 'facilitator')),
        created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created REAL NOT NULL,
        expires REAL NOT NULL,
        max_uses INTEGER NOT NULL,
        uses INTEGER NOT NULL DEFAULT 0,
        revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE comments (
        id INTEGER PRIMARY KEY,
        page TEXT NOT NULL COLLATE NOCASE,
        parent INTEGER REFERENCES comments(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id),
        body TEXT NOT NULL,
        created REAL NOT NULL,
        edited REAL,
        deleted INTEGER NOT NULL DEFAULT 0,
        hidden_reason TEXT,
        hidden_by INTEGER REFERENCES users(id),
        hidden_at REAL
    );
    CREATE INDEX comments_page ON comments(page, created);
    CREATE INDEX comments_user ON comments(user_id, created);
    CREATE TABLE comment_reports (
        comment_id INTEGER NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        reason TEXT NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (comment_id, user_id)
    );
    CREATE TABLE reactions (
        target TEXT NOT NULL COLLATE NOCASE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (target, user_id, kind)
    );
    CREATE TABLE presence (
        page TEXT NOT NULL COLLATE NOCASE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        dirty INTEGER NOT NULL DEFAULT 0,
        since REAL NOT NULL,
        seen REAL NOT NULL,
        PRIMARY KEY (page, user_id)
    );
    CREATE TABLE drafts (
        page TEXT NOT NULL COLLATE NOCASE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        markdown TEXT NOT NULL,
        base_revision TEXT NOT NULL DEFAULT '',
        saved REAL NOT NULL,
        PRIMARY KEY (page, user_id)
    );
    CREATE TABLE frozen (
        scope TEXT PRIMARY KEY COLLATE NOCASE,
        user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
        at REAL NOT NULL
    );
    """,
    # Interface language per account (issue 7): 'en', 'nl', or '' to follow the browser.
    """
    ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT ''
    """,
    # Server-side sessions: a login is a row here, so logging out ends it for every copy
    # of the cookie; the generation ends all of an account's sessions at once.
    """
    ALTER TABLE users ADD COLUMN session_generation INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE sessions (
        sid_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created REAL NOT NULL,
        expires REAL NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(user_id)
    """,
    _fold_names,
    # The wiki's own settings a facilitator changes on the admin page, shared by every
    # worker and kept over restarts: its language (wiki/wikilang.py).
    """
    CREATE TABLE wiki_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)
    """,
    # One-time password reset links (wiki/resets.py): only a hash of the secret is kept.
    """
    CREATE TABLE password_resets (
        secret_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created REAL NOT NULL,
        expires REAL NOT NULL,
        used REAL
    );
    CREATE INDEX password_resets_user ON password_resets(user_id)
    """,
    # Comments on a passage (issue 19, wiki/passages.py): the anchor (quote, revision,
    # code-point start and end, context) and resolving; where each anchor sits in a
    # page blob is a cache of git, one row per comment for the blob it last met.
    """
    ALTER TABLE comments ADD COLUMN anchor_quote TEXT;
    ALTER TABLE comments ADD COLUMN anchor_revision TEXT;
    ALTER TABLE comments ADD COLUMN anchor_start INTEGER;
    ALTER TABLE comments ADD COLUMN anchor_end INTEGER;
    ALTER TABLE comments ADD COLUMN anchor_before TEXT;
    ALTER TABLE comments ADD COLUMN anchor_after TEXT;
    ALTER TABLE comments ADD COLUMN resolved_at REAL;
    ALTER TABLE comments ADD COLUMN resolved_by INTEGER REFERENCES users(id);
    CREATE TABLE passage_places (
        comment_id INTEGER PRIMARY KEY REFERENCES comments(id) ON DELETE CASCADE,
        blob TEXT NOT NULL,
        start INTEGER,
        end INTEGER
    )
    """,
    # Notifications (issue 19, wiki/notifications.py): one row per recipient, a partial
    # index so the bell's unread count is one cheap query, followed pages, the e-mail
    # choice per person, and the outbox wiki/mailer.py sends from (kept until sent).
    """
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        page TEXT NOT NULL COLLATE NOCASE,
        actor_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
        summary TEXT NOT NULL DEFAULT '',
        link TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        read REAL,
        mail INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX notifications_user ON notifications(user_id, created);
    CREATE INDEX notifications_unread ON notifications(user_id) WHERE read IS NULL;
    CREATE INDEX notifications_mail ON notifications(user_id) WHERE mail = 1;
    CREATE TABLE page_follows (
        page TEXT NOT NULL COLLATE NOCASE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created REAL NOT NULL,
        PRIMARY KEY (page, user_id)
    );
    CREATE TABLE notify_settings (
        user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        email TEXT NOT NULL CHECK (email IN ('none', 'immediate', 'digest'))
    );
    CREATE TABLE mail_outbox (
        id INTEGER PRIMARY KEY,
        user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        html TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_try REAL NOT NULL,
        sent REAL,
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX mail_outbox_due ON mail_outbox(next_try) WHERE sent IS NULL
    """,
    # Suggested changes (issue 19, wiki/suggestions.py): the text is a commit on
    # refs/suggestions/<id>; here who made it on which base, why, its discussion (a
    # page comment) and the decision.
    """
    CREATE TABLE suggestions (
        id INTEGER PRIMARY KEY,
        page TEXT NOT NULL COLLATE NOCASE,
        base TEXT NOT NULL,
        commit_id TEXT NOT NULL DEFAULT '',
        user_id INTEGER NOT NULL REFERENCES users(id),
        note TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'open'
            CHECK (state IN ('open', 'accepted', 'rejected', 'conflict')),
        comment_id INTEGER REFERENCES comments(id) ON DELETE SET NULL,
        decided_by INTEGER REFERENCES users(id),
        reason TEXT NOT NULL DEFAULT '',
        revision TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        updated REAL NOT NULL,
        decided REAL
    );
    CREATE INDEX suggestions_page ON suggestions(page, state)
    """,
    # Comments on a passage (issue 19): a stamp per page for the rendered comment section.
    _discussion_stamps,
]


def apply(conn: sqlite3.Connection) -> None:
    """Apply every migration newer than the file's user_version (inside the caller's
    write transaction)."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        if callable(script):
            script(conn)  # a migration that needs Python (Unicode folding)
        else:
            for statement in filter(str.strip, script.split(";")):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number:d}")
