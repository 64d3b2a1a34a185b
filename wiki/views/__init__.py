"""Flask blueprints: parse the request, call one domain function, render or return JSON."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user

from storage.repository import Person
from wiki.accounts import User
from wiki.changes import Origin
from wiki.datadir import Services


def services() -> Services:
    """The data directory's services wired by create_app."""
    found: Services = current_app.extensions["cowiki"]
    return found


def me() -> User:
    """The logged-in user (views behind a role check only)."""
    user: User = current_user.user
    return user


def author() -> Person:
    """The logged-in user as a commit author."""
    return me().person


def origin(via: str = "web") -> Origin:
    """The logged-in user's account and the entry point, for a change they make."""
    return Origin(me().id, via)
