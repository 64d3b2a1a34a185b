"""Mentions and notifications in the domain: a real data directory, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, func, select

from wiki.accounts import User
from wiki.changes import Origin
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.db import Database
from wiki.dbschema import notifications
from wiki.mentions import Person, find, link_mentions, mentioned

PASSWORD = "a long enough password"


@pytest.fixture
def wiki(tmp_path: Path, database_url: str) -> Services:
    return open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))


def people(wiki: Services, *names: str, role: str = "participant") -> list[User]:
    return [wiki.accounts.add_user(n, f"{n.replace(' ', '.')}@example.org", role, PASSWORD)
            for n in names]


KNOWN = {"anna": Person(1, "Anna"), "anna de vries": Person(2, "Anna de Vries"),
         "zoë": Person(3, "Zoë"), "jan_k": Person(4, "jan_k")}


def test_the_longest_full_name_wins_and_punctuation_ends_a_name() -> None:
    text = "Thanks @Anna de Vries, and @zoë."
    assert [m.person.name for m in find(text, KNOWN)] == ["Anna de Vries", "Zoë"]


def test_quoted_names_fold_case_and_width_like_accounts() -> None:
    assert [m.person.id for m in find('zie @"ANNA DE VRIES" 😀 en @Ｚoë', KNOWN)] == [2, 3]


def test_addresses_code_and_unknown_names_are_not_mentions() -> None:
    text = "mail anna@example.org, `@Anna` or\n```\n@Zoë\n```\n@Nobody"
    assert find(text, KNOWN) == []


def test_mentions_become_links_to_people_pages() -> None:
    assert link_mentions("hoi @jan_k!", KNOWN) == "hoi [@jan\\_k](/people/jan_k)!"
    assert link_mentions("@Zoë", KNOWN, "/wiki/") == "[@Zoë](/wiki/people/Zo%C3%AB)"


def test_mentioned_gives_each_active_account_once(wiki: Services) -> None:
    anna, bram = people(wiki, "Anna de Vries", "Bram")
    wiki.accounts.set_active(bram, False)
    assert mentioned(wiki.accounts, "@Anna de Vries @bram @anna de vries") == [anna.id]


def test_a_mention_in_a_comment_notifies_and_links(wiki: Services) -> None:
    anna, bram = people(wiki, "Anna", "Bram")
    made = wiki.comments.add("Home", bram, "Wat vind jij, @Anna?")
    assert '<a href="/people/Anna" rel="noopener noreferrer nofollow">@Anna</a>' in made.html
    [note] = wiki.notifications.recent(anna.id)
    assert (note.kind, note.page, note.actor) == ("mention", "Home", "Bram")
    assert note.link == f"/p/Home#comment-{made.id}"
    assert wiki.notifications.unread_count(anna.id) == 1
    assert wiki.notifications.unread_count(bram.id) == 0  # never the actor


def test_a_reply_notifies_the_authors_it_answers_once(wiki: Services) -> None:
    anna, bram, carl = people(wiki, "Anna", "Bram", "Carl")
    first = wiki.comments.add("Home", anna, "Eerste")
    second = wiki.comments.add("Home", bram, "Antwoord", parent=first.id)
    wiki.comments.add("Home", carl, "Ook @Bram", parent=second.id)
    assert [n.kind for n in wiki.notifications.recent(anna.id)] == ["reply", "reply"]
    assert [n.kind for n in wiki.notifications.recent(bram.id)] == ["mention"]


def test_reports_reach_facilitators(wiki: Services) -> None:
    anna, bram = people(wiki, "Anna", "Bram")
    [fay] = people(wiki, "Fay", role="facilitator")
    made = wiki.comments.add("Home", anna, "Koop nu!")
    wiki.comments.report(made.id, bram, "self-promotion")
    assert [(n.kind, n.summary) for n in wiki.notifications.recent(fay.id)] == [
        ("report", "self-promotion")]


def test_the_same_unread_notification_is_refreshed_not_repeated(wiki: Services) -> None:
    anna, bram = people(wiki, "Anna", "Bram")
    for summary in ("one", "two"):
        wiki.notifications.notify([anna.id, anna.id], "followed_change", "Home", bram.id,
                                  summary, "/p/Home")
    assert [n.summary for n in wiki.notifications.recent(anna.id)] == ["two"]


def test_mark_read_touches_only_your_own(wiki: Services) -> None:
    anna, bram = people(wiki, "Anna", "Bram")
    notes = wiki.notifications
    notes.notify([anna.id], "mention", "A", bram.id, link="/p/A")
    notes.notify([anna.id], "mention", "B", bram.id, link="/p/B")
    [newest, _] = notes.recent(anna.id)
    notes.mark_read(bram.id, newest.id)
    assert notes.unread_count(anna.id) == 2
    notes.mark_read(anna.id, newest.id)
    assert notes.unread_count(anna.id) == 1
    assert notes.mark_all_read(anna.id) == 1
    assert notes.unread_count(anna.id) == 0


def test_notify_never_raises_into_its_caller(wiki: Services) -> None:
    [anna] = people(wiki, "Anna")
    wiki.notifications.notify([anna.id, 10**6], "no such kind", "Home", 0)
    wiki.notifications.notify([10**6], "mention", "Home", anna.id)  # no such account
    assert wiki.notifications.unread_count(anna.id) == 0


def test_the_unread_count_is_one_indexed_query(wiki: Services) -> None:
    query = select(func.count()).select_from(notifications).where(
        notifications.c.user_id == 1, notifications.c.read.is_(None))
    assert "notifications_unread" in query_plan(wiki.db, query)


def query_plan(db: Database, query: Select[Any]) -> str:
    with db.transaction() as conn:
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        if db.dialect == "sqlite":
            return " ".join(str(r[3]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # else a tiny table is scanned
        return " ".join(str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + sql))


def test_follows_move_with_a_rename(wiki: Services) -> None:
    anna, bram = people(wiki, "Anna", "Bram")
    wiki.notifications.follow(anna.id, "Intro")
    wiki.notifications.follow(bram.id, "Inleiding")
    wiki.notifications.follow(bram.id, "Intro")
    wiki.notifications.move("Intro", "Inleiding")
    assert wiki.notifications.followers("Inleiding") == [anna.id, bram.id]
    assert wiki.notifications.followers("Intro") == []


def test_followers_hear_of_saves_and_renames_but_not_of_their_own(wiki: Services) -> None:
    anna, bram = people(wiki, "Anna", "Bram")
    wiki.notifications.follow(anna.id, "Intro")
    wiki.notifications.follow(bram.id, "Intro")
    saved = wiki.pages.save("Intro", "# Intro\n", None, bram.person, origin=Origin(bram.id))
    wiki.pages.rename("Intro", "Inleiding", bram.person, origin=Origin(bram.id))
    notes = wiki.notifications.recent(anna.id)
    assert [(n.page, n.summary, n.link) for n in notes] == [
        ("Inleiding", "renamed", "/p/Inleiding"), ("Intro", "created", "/p/Intro")]
    assert wiki.notifications.recent(bram.id) == []
    assert saved.revision
