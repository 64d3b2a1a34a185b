"""Comments, reports, reactions and the pages' discussion stamps, on SQLite and on
PostgreSQL: the same answers from both, and clicks at the same moment that neither fail
nor count twice."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.account_support import insert_member
from tests.concurrency_support import at_once, errors_of
from wiki.accounts import User
from wiki.comments import Comments
from wiki.db import Database
from wiki.dbschema import comment_reports, discussion_stamps, reactions
from wiki.errors import PageNotFound
from wiki.passages import PassagePlaces, anchor_at
from wiki.reactions import Reactions, comment_target, page_target
from wiki.render import Renderer


@pytest.fixture
def people(database: Database) -> dict[str, User]:
    made = {}
    for number, (name, role) in enumerate((("Anna", "participant"), ("Bert", "participant"),
                                            ("Fien", "facilitator")), start=1):
        insert_member(database.connect(), name, role, id=number, created=0)
        made[name] = User(number, name, f"{name.lower()}@example.org", role, True)
    return made


@pytest.fixture
def comments(database: Database) -> Comments:
    return Comments(database, Renderer())


def stamp(database: Database, page: str) -> int:
    found = database.connect().execute(
        select(discussion_stamps.c.stamp).where(discussion_stamps.c.page == page)).scalar()
    return int(found or 0)


def test_comments_come_back_with_their_authors_and_replies(
        comments: Comments, people: dict[str, User]) -> None:
    first = comments.add("Plan", people["Anna"], "Goed **plan**")
    reply = comments.add("plan", people["Bert"], "Eens", parent=first.id)
    assert reply.id > first.id and reply.parent == first.id and reply.author == "Bert"
    threads = comments.for_page("PLAN", None)  # page names ignore case
    assert [(t.id, [r.id for r in t.replies]) for t in threads] == [(first.id, [reply.id])]
    assert "<strong>plan</strong>" in threads[0].html
    assert comments.count("pLaN") == 2 and comments.counts() == {"plan": 2}
    assert [c.id for c in comments.by_user(people["Bert"].id, None)] == [reply.id]
    with pytest.raises(PageNotFound):
        comments.get(2**62)  # larger than a PostgreSQL integer: simply not there


def test_a_second_report_replaces_the_reason_and_unhiding_dismisses_them(
        database: Database, comments: Comments, people: dict[str, User]) -> None:
    made = comments.add("Plan", people["Anna"], "Koop nu!")
    comments.report(made.id, people["Bert"], "off-topic")
    comments.report(made.id, people["Bert"], "self-promotion")
    assert comments.report_reasons(made.id) == {"self-promotion": 1}
    assert [c.id for c in comments.reported()] == [made.id] and comments.reported_count() == 1
    comments.hide(made.id, people["Fien"], "reclame")
    assert comments.get(made.id).hidden_by == "Fien" and comments.count("Plan") == 0
    assert comments.count("Plan", people["Fien"]) == 1
    comments.unhide(made.id, people["Fien"])
    assert comments.reported_count() == 0 and comments.get(made.id).reports == 0


def test_the_stamp_moves_with_every_change_to_a_pages_discussion(
        database: Database, comments: Comments, people: dict[str, User]) -> None:
    made = comments.add("Plan", people["Anna"], "Eerste")
    seen = [stamp(database, "plan")]
    Reactions(database).toggle(comment_target(made.id), people["Bert"], "heart")
    seen.append(stamp(database, "Plan"))
    Reactions(database).toggle(comment_target(made.id), people["Bert"], "heart")
    seen.append(stamp(database, "Plan"))
    comments.report(made.id, people["Bert"], "other")
    seen.append(stamp(database, "Plan"))
    comments.unhide(made.id, people["Fien"])  # dismisses the report
    seen.append(stamp(database, "Plan"))
    assert seen[0] > 0 and seen == sorted(set(seen)), seen
    Reactions(database).toggle(page_target("Plan"), people["Bert"], "agree")
    assert stamp(database, "Plan") == seen[-1]  # a page's own reactions are not its section
    comments.move("Plan", "Plan 2")
    assert stamp(database, "Plan") > seen[-1] and stamp(database, "Plan 2") > 0


def test_reactions_toggle_count_and_follow_a_rename(
        database: Database, people: dict[str, User]) -> None:
    store = Reactions(database)
    anna, bert = people["Anna"], people["Bert"]
    store.toggle(page_target("Oud"), anna, "agree")
    store.toggle(page_target("Oud"), bert, "agree")
    store.toggle(page_target("Nieuw"), anna, "agree")
    store.toggle(page_target("oud"), bert, "idea")
    store.toggle(page_target("oud"), bert, "idea")  # taken back
    tally = store.tally("page:OUD", bert)
    assert tally.counts["agree"] == 2 and tally.counts["idea"] == 0
    assert tally.mine == {"agree"} and tally.total == 2
    assert store.page_totals("agree") == {"oud": 2, "nieuw": 1}
    store.move_page("Oud", "Nieuw")  # Anna agreed with both: once remains
    assert store.page_totals("agree") == {"nieuw": 2}
    store.move_page("Nieuw", "NIEUW")  # only the case changes: nothing is lost
    assert store.tally(page_target("nieuw"), anna).mine == {"agree"}
    assert store.page_totals("agree") == {"nieuw": 2}


@pytest.mark.parametrize("clicks", [2, 3])
def test_clicks_at_the_same_moment_toggle_one_after_the_other(
        database: Database, people: dict[str, User], clicks: int) -> None:
    store, target = Reactions(database), comment_target(1)
    for _ in range(20):
        before = store.tally(target, people["Anna"]).counts["thumbsup"]
        errors = errors_of(at_once(clicks, database=database, work=lambda _i: store.toggle(
            target, people["Anna"], "thumbsup")))
        after = store.tally(target, people["Anna"]).counts["thumbsup"]
        assert not errors and after == (before + clicks) % 2


def test_reports_and_places_written_at_the_same_moment_do_not_fail(
        database: Database, comments: Comments, people: dict[str, User]) -> None:
    text = "Eerste zin.\n\nTweede zin.\n"
    anchor = anchor_at(text, "a" * 40, 13, 24)
    made = [comments.add("Plan", people["Anna"], f"Over zin {i}", anchor=anchor)
            for i in range(3)]
    errors = errors_of(at_once(4, database=database, work=lambda i: comments.report(
        made[0].id, people["Bert"], ("other", "off-topic")[i % 2])))
    places = PassagePlaces(database)
    errors += errors_of(at_once(4, database=database, work=lambda _i: places.places(
        text, "blob1", {c.id: anchor for c in made}, lambda _rev: text)))
    assert not errors
    count = database.connect().execute(select(func.count()).select_from(comment_reports))
    assert count.scalar_one() == 1
    assert {p.start for p in places.places(text, "blob1", {made[0].id: anchor},
                                           lambda _rev: None).values()} == {13}
    assert database.connect().execute(select(func.count()).select_from(reactions)).scalar() == 0
