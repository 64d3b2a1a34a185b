"""Accounts written straight into the database, for store tests that need someone to
point at without the cost of a password hash."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, insert

from wiki.dbschema import members, users


def insert_member(conn: Connection, name: str, role: str = "participant",
                  active: bool = True, **account: Any) -> int:
    """An account named `name` and its membership of the wiki; its id."""
    values = {"name": name, "email": f"{name.lower()}@example.org", "password_hash": "x",
              "created": time.time(), "name_key": name.casefold(), **account}
    user_id = int(conn.execute(insert(users).values(**values)
                               .returning(users.c.id)).scalar_one())
    conn.execute(insert(members).values(user_id=user_id, role=role, active=int(active),
                                        joined=values["created"]))
    return user_id
