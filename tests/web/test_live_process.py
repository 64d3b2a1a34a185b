"""The live process for real: a subprocess on a temp data dir, Yjs clients over its socket.

People type at once (Dutch diacritics, emoji); git must end with their text, one or
more commits per person holding only their own lines, blame crediting each line to
its typist. Outside saves arrive live; kill -9 loses nothing acknowledged; bad
tickets, other pages, readers, other origins and huge frames are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from websockets.exceptions import ConnectionClosed

from storage.names import page_file
from tests.live_support import LiveProcess, YClient, run_async, start_live, ticket
from wiki.datadir import Services
from wiki.live.journal import journal_path
from wiki.live.livesock import ask

FAST = {"COWIKI_LIVE_IDLE_SECONDS": "1", "COWIKI_LIVE_MAX_SECONDS": "30"}
PAGE = "Werkplan"
START = "# Werkplan\n\nEerste alinea.\n\nTweede alinea.\n"


def run(test: Callable[[], Awaitable[None]]) -> None:
    run_async(test)


@pytest.fixture
def services(app: Flask) -> Services:
    services: Services = app.extensions["cowiki"]
    for name in ("anna", "bram"):
        services.accounts.add_user(name, f"{name}@example.org", "participant", "a-pass-word-1")
    writer = services.accounts.by_name("facilitator")
    assert writer is not None
    services.pages.save(PAGE, START, None, writer.person)
    return services


@pytest.fixture
def live(services: Services) -> Iterator[LiveProcess]:
    process = start_live(Path(services.settings.data_dir), FAST)
    yield process
    process.stop()


def account(services: Services, name: str) -> int:
    user = services.accounts.by_name(name)
    assert user is not None
    return user.id


async def join(services: Services, name: str, page: str = PAGE, mode: str = "write",
               **options: Any) -> YClient:
    data = Path(services.settings.data_dir)
    client = await YClient.connect(data, page, ticket(data, page, account(services, name), mode),
                                   **options)
    await asyncio.wait_for(client.synced.wait(), 10)
    return client


def git_text(services: Services, page: str = PAGE) -> str:
    return services.pages.get(page).markdown


async def until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


def test_three_people_typing_at_once_become_their_own_commits(services: Services,
                                                               live: LiveProcess) -> None:
    lines = {"anna": "Anna schrijft: één café, ruïne en 😀.\n",
             "bram": "Bram voegt toe: coördinatie 🚲.\n",
             "participant": "Deelnemer: naïef geëerd 👍🏽.\n"}

    async def session() -> None:
        clients = {name: await join(services, name) for name in lines}
        anchors = {"anna": "Eerste alinea.", "bram": "Tweede alinea.", "participant": None}
        for number in range(max(len(line) for line in lines.values())):
            for name, line in lines.items():  # keystrokes interleaved, as at a workshop
                if number < len(line):
                    now, anchor = str(clients[name].text), anchors[name]
                    await clients[name].type(now.index(anchor) if anchor else len(now),
                                             line[number])
            await asyncio.sleep(0)
        await until(lambda: all(all(line in str(c.text) for line in lines.values())
                                for c in clients.values()))
        expected = str(clients["participant"].text)
        for client in clients.values():
            await client.wait_for(expected)
        for client in clients.values():
            await client.close()
        await until(lambda: git_text(services) == expected)

    run(session)
    head = services.repo.head()
    assert head is not None
    log = services.history.log(page_file(PAGE), limit=20)
    live_commits = [entry for entry in log if entry.author in lines]
    assert {entry.author for entry in live_commits} == set(lines)
    blame = services.history.blame(head, page_file(PAGE))
    for name, line in lines.items():
        assert [b.author for b in blame if b.text + "\n" == line] == [name]
    for entry in live_commits:  # each commit holds only its author's lines
        diff = services.repo.commit_info(entry.revision)
        parent = diff.parents[0].id
        before = services.pages.get(PAGE, str(parent)).markdown
        after = services.pages.get(PAGE, entry.revision).markdown
        added = set(after.splitlines()) - set(before.splitlines())
        assert added and all(line in lines[entry.author] for line in added)


def test_a_save_elsewhere_arrives_live_and_nothing_is_lost(services: Services,
                                                          live: LiveProcess) -> None:
    async def session() -> None:
        anna = await join(services, "anna")
        await anna.type(len(START), "Anna typt live: één.\n")
        await until(lambda: live.health()["connections"] == 1)
        facilitator = services.accounts.by_name("facilitator")
        assert facilitator is not None
        old = services.pages.get(PAGE)  # a classic save from before Anna's typing
        services.pages.save(PAGE, START.replace("Eerste alinea.", "Eerste alinea, herzien."),
                            old.revision, facilitator.person)
        merged = START.replace("Eerste alinea.", "Eerste alinea, herzien.") + \
            "Anna typt live: één.\n"
        await anna.wait_for(merged)
        await anna.close()
        await until(lambda: git_text(services) == merged)

    run(session)
    authors = [entry.author for entry in services.history.log(page_file(PAGE), limit=5)]
    assert authors[:2] == ["anna", "facilitator"]


def test_kill_9_loses_nothing_acknowledged_and_reconnecting_duplicates_nothing(
        services: Services, live: LiveProcess) -> None:
    data = Path(services.settings.data_dir)
    typed = "Na de crash: één ë en 🎉.\n"

    async def session() -> None:
        anna, bram = await join(services, "anna"), await join(services, "bram")
        for number, char in enumerate(typed):
            await anna.type(len(START) + number, char)
        await bram.wait_for(START + typed)  # seen by another screen: acknowledged
        live.kill()
        await anna.wait_closed()
        restarted = start_live(data, FAST)
        try:
            assert restarted.health()["rooms"] == 1
            again = await join(services, "anna", doc=anna.doc)  # the browser's old document
            fresh = await join(services, "bram")
            await fresh.wait_for(START + typed)
            await again.type(0, "😀")
            await fresh.wait_for("😀" + START + typed)
            assert str(again.text) == "😀" + START + typed
            await again.close()
            await fresh.close()
            await until(lambda: git_text(services) == "😀" + START + typed)
            await until(lambda: restarted.health()["rooms"] == 0)
            assert not journal_path(data, PAGE).exists()
        finally:
            restarted.stop()

    run(session)


def test_refused_sockets(services: Services, live: LiveProcess) -> None:
    data = Path(services.settings.data_dir)

    async def closed_with(token: str, page: str = PAGE, **options: Any) -> int | None:
        client = await YClient.connect(data, page, token, **options)
        return await client.wait_closed()

    async def session() -> None:
        anna = account(services, "anna")
        assert await closed_with(ticket(data, PAGE, anna)[:-3] + "AAA") == 4401
        assert await closed_with(ticket(data, "Home", anna)) == 4401
        assert await closed_with(ticket(data, PAGE, anna), origin="http://evil.example") == 4403
        writer = await join(services, "bram")
        reader = await join(services, "reader", mode="write")  # a reader's ticket says write
        await reader.type(0, "Lezer schrijft.\n")
        await writer.type(0, "Bram.\n")
        await writer.wait_for("Bram.\n" + START)
        await asyncio.sleep(0.5)
        assert "Lezer" not in str(writer.text)
        huge = await join(services, "anna")
        with contextlib.suppress(ConnectionClosed):  # the server may close mid-frame
            await huge.ws.send(b"\x00\x02" + os.urandom(10_000_000))
        assert await huge.wait_closed() == 1009
        user = services.accounts.get(anna)
        assert user is not None
        services.accounts.set_active(user, False)
        assert await closed_with(ticket(data, PAGE, anna)) == 4403
        await reader.close()
        await writer.close()

    run(session)


def test_an_account_changed_during_a_session_is_sent_away_or_only_watches(
        services: Services, live: LiveProcess) -> None:
    """The live process looks at each connection's account again every 10 s."""

    async def session() -> None:
        anna, bram = await join(services, "anna"), await join(services, "bram")
        await bram.type(0, "Bram eerst.\n")
        await anna.wait_for("Bram eerst.\n" + START)
        people = services.accounts
        anna_user, bram_user = people.get(account(services, "anna")), people.by_name("bram")
        assert anna_user is not None and bram_user is not None
        people.set_active(anna_user, False)
        people.set_role(bram_user, "reader")
        assert await anna.wait_closed(timeout=25) == 4403  # deactivated: dropped
        await asyncio.sleep(1)
        await bram.type(0, "Nu lezer.\n")  # lowered to reader: no longer written
        await asyncio.sleep(1.5)
        watcher = await join(services, "facilitator")
        assert str(watcher.text) == "Bram eerst.\n" + START
        await watcher.close()
        await bram.close()

    run(session)


def test_save_version_commits_at_once(services: Services) -> None:
    live = start_live(Path(services.settings.data_dir), {"COWIKI_LIVE_IDLE_SECONDS": "60"})

    async def session() -> None:
        anna = await join(services, "anna")
        await anna.type(len(START), "Nu bewaren: ✓.\n")
        await until(lambda: live.health()["connections"] == 1)
        await asyncio.sleep(0.3)  # the keystroke crossed the socket
        status, answer = ask(Path(services.settings.data_dir), "POST", f"/rooms/{PAGE}/save")
        assert status == 200 and answer["revision"] == services.repo.head()
        assert git_text(services) == START + "Nu bewaren: ✓.\n"
        await anna.close()

    try:
        run(session)
        assert services.history.log(page_file(PAGE), limit=1)[0].author == "anna"
    finally:
        live.stop()


def test_a_renamed_page_sends_people_to_its_new_name_with_their_edits(
        services: Services, live: LiveProcess) -> None:
    async def session() -> None:
        anna = await join(services, "anna")
        await anna.type(len(START), "Nog niet bewaard.\n")
        await until(lambda: live.health()["rooms"] == 1)
        facilitator = services.accounts.by_name("facilitator")
        assert facilitator is not None
        services.pages.rename(PAGE, "Plan", facilitator.person)
        assert await anna.wait_closed() == 4301

    run(session)
    assert git_text(services, "Plan") == START + "Nog niet bewaard.\n"


def test_a_deleted_page_closes_its_room(services: Services, live: LiveProcess) -> None:
    async def session() -> None:
        anna = await join(services, "anna")
        facilitator = services.accounts.by_name("facilitator")
        assert facilitator is not None
        services.pages.delete(PAGE, services.pages.get(PAGE).revision, facilitator.person)
        assert await anna.wait_closed() == 4404

    run(session)


def test_a_frozen_page_is_read_only_for_everyone(services: Services, live: LiveProcess) -> None:
    facilitator = services.accounts.by_name("facilitator")
    assert facilitator is not None
    services.phases.set_frozen(PAGE, True, facilitator)

    async def session() -> None:
        anna = await join(services, "anna")
        watcher = await join(services, "facilitator")
        await anna.type(0, "Bevroren? ")
        await watcher.type(0, "Ook niet. ")
        await asyncio.sleep(1.0)
        assert str(watcher.text) == "Ook niet. " + START  # its own screen only
        fresh = await join(services, "bram")
        assert str(fresh.text) == START
        for client in (anna, watcher, fresh):
            await client.close()

    run(session)
    assert git_text(services) == START
