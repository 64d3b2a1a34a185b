"""Live rooms without the process: seeding, the journal, rebuilding, outside edits.

Real pycrdt documents stand in for browsers; the journal is a real file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pycrdt import Doc, Text

from tests.live_support import run_async
from wiki.live.journal import OPENED, UPDATE, Journal, current_room, journal_path, read_records
from wiki.live.outside import merged_live_text
from wiki.live.rooms import LiveRoom, edits, room_id, seed_update

SEED = "# Notulen\n\nWe spraken over de coördinatie.\nDaarna koffie ☕.\n"


def browser(room: LiveRoom) -> tuple[Doc[Any], Text]:
    """A browser's document, synced with the room."""
    doc: Doc[Any] = Doc()
    doc.apply_update(room.doc.get_update())
    return doc, doc.get("markdown", type=Text)


def deliver(room: LiveRoom, update: bytes, account: int) -> None:
    """A writer's update reaching the room (journalled, then applied)."""
    run_async(lambda: room.receive(update, account))


def type_into(room: LiveRoom, doc: Doc[Any], text: Text, at: int, words: str,
              account: int) -> None:
    """Type `words` at code point `at` in a browser and send the update to the room."""
    before = doc.get_state()
    text.insert(len(str(text)[:at].encode("utf-8")), words)
    deliver(room, doc.get_update(before), account)


def seeded(tmp_path: Path, revision: str = "a1b2c3d4e5") -> LiveRoom:
    return LiveRoom.open("Notulen", revision, SEED, journal_path(tmp_path, "Notulen"))


def session(tmp_path: Path) -> LiveRoom:
    """A room two people typed in (emoji, diacritics) and git changed once."""
    room = seeded(tmp_path)
    anna_doc, anna = browser(room)
    bram_doc, bram = browser(room)
    type_into(room, anna_doc, anna, len(SEED), "Anna: één 😀 idee.\n", 2)
    type_into(room, bram_doc, bram, SEED.index("We spraken"), "Bram: ruïne 🚲.\n", 3)
    git_new = SEED.replace("koffie", "thee")
    room.take_from_git(merged_live_text(SEED, room.live, git_new), 4, "f00dfeed12")
    return room


def test_the_same_room_seeds_the_same_bytes_and_another_room_does_not() -> None:
    first = seed_update(room_id("Notulen", "abc1234"), SEED)
    assert first == seed_update(room_id("Notulen", "abc1234"), SEED)
    assert first != seed_update(room_id("Notulen", "def5678"), SEED)


def test_two_rebuilds_from_the_journal_are_byte_identical_to_the_room(tmp_path: Path) -> None:
    room = session(tmp_path)
    path = room.journal.path
    room.close(remove_journal=False)
    one = LiveRoom.rebuild(path, lambda _page, _rev: SEED)
    two = LiveRoom.rebuild(path, lambda _page, _rev: SEED)
    assert one is not None and two is not None
    assert one.doc.get_update() == two.doc.get_update() == room.doc.get_update()
    assert one.doc.get_state() == two.doc.get_state() == room.doc.get_state()
    assert one.live == room.live and one.pending == room.pending
    assert one.git_revision == "f00dfeed12"


def test_a_browser_holding_the_old_document_syncs_with_the_rebuilt_room_without_duplicates(
        tmp_path: Path) -> None:
    room = session(tmp_path)
    old_doc, old_text = browser(room)
    expected = str(old_text)
    room.close(remove_journal=False)
    rebuilt = LiveRoom.rebuild(room.journal.path, lambda _page, _rev: SEED)
    assert rebuilt is not None
    # The sync a reconnecting y-websocket provider does: both sides send what the other lacks.
    deliver(rebuilt, old_doc.get_update(rebuilt.doc.get_state()), 2)
    old_doc.apply_update(rebuilt.doc.get_update(old_doc.get_state()))
    assert str(old_text) == rebuilt.live == expected
    assert expected.count("Anna: één 😀 idee.") == 1 and expected.count("# Notulen") == 1


def test_steps_carry_the_sender_in_code_points_and_git_changes_are_marked(
        tmp_path: Path) -> None:
    room = session(tmp_path)
    base, steps, _upto = room.to_fold()
    assert base == SEED
    by_author: dict[int, str] = {}
    for step in steps:
        by_author[step.author] = by_author.get(step.author, "") + step.insert
    assert by_author == {2: "Anna: één 😀 idee.\n", 3: "Bram: ruïne 🚲.\n", 4: "the"}
    assert all(step.in_git == (step.author == 4) for step in steps)
    live = base
    for step in steps:
        live = live[:step.start] + step.insert + live[step.end:]
    assert live == room.live == str(room.text)


def test_an_outside_change_edits_only_what_changed(tmp_path: Path) -> None:
    room = seeded(tmp_path)
    doc, text = browser(room)
    type_into(room, doc, text, len(SEED), "Mijn regel.\n", 2)
    room.take_from_git(SEED.replace("koffie ☕", "thee 🍵") + "Mijn regel.\n", 5, "beef1234")
    doc.apply_update(room.doc.get_update(doc.get_state()))
    assert str(text) == SEED.replace("koffie ☕", "thee 🍵") + "Mijn regel.\n"
    in_git = [s for s in room.to_fold()[1] if s.in_git]
    assert "".join(s.insert for s in in_git) == "the🍵"  # "koffi"→"the", "☕"→"🍵": no more


def test_folding_marks_the_journal_so_a_rebuild_starts_from_the_folded_text(
        tmp_path: Path) -> None:
    room = seeded(tmp_path)
    doc, text = browser(room)
    type_into(room, doc, text, 0, "Eerst. ", 2)
    _base, _steps, upto = room.to_fold()
    type_into(room, doc, text, len(str(text)), "Later.\n", 3)
    room.folded(upto, "cafe1234")
    room.close(remove_journal=False)
    rebuilt = LiveRoom.rebuild(room.journal.path, lambda _page, _rev: SEED)
    assert rebuilt is not None
    base, steps, _upto = rebuilt.to_fold()
    assert base == "Eerst. " + SEED
    assert [s.insert for s in steps] == ["Later.\n"] and rebuilt.git_revision == "cafe1234"


def test_a_record_cut_short_by_a_crash_is_ignored_and_cut_off(tmp_path: Path) -> None:
    room = seeded(tmp_path)
    doc, text = browser(room)
    type_into(room, doc, text, 0, "Bewaard. ", 2)
    room.close(remove_journal=False)
    path = room.journal.path
    whole = path.read_bytes()
    path.write_bytes(whole + whole[-20:-3])  # half a record, as kill -9 mid-write leaves
    rebuilt = LiveRoom.rebuild(path, lambda _page, _rev: SEED)
    assert rebuilt is not None and rebuilt.live == "Bewaard. " + SEED
    assert path.read_bytes() == whole
    assert current_room(tmp_path, "Notulen") == room.id


def test_the_journal_is_on_disk_in_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "live" / "x.journal")
    journal.append(OPENED, page="P", revision="abc", room="P@abc")
    journal.append(UPDATE, b"\x01\x02\n\x03", account=7)
    journal.close()
    records = list(read_records(tmp_path / "live" / "x.journal"))
    assert [r.kind for r in records] == [OPENED, UPDATE]
    assert records[1].update == b"\x01\x02\n\x03" and records[1].head["account"] == 7


def test_edits_replace_spans_not_the_whole_text() -> None:
    old = "één\ntwee 😀\ndrie\n"
    new = "één\ntwee 🚲!\ndrie\nvier\n"
    spans = edits(old, new)
    result = old
    for start, end, insert in reversed(spans):
        result = result[:start] + insert + result[end:]
    assert result == new
    assert all(end - start < 3 for start, end, _insert in spans)


def test_git_changing_the_line_next_to_live_typing_merges_without_doubling_lines() -> None:
    live = SEED + "Anna typt hier 😀.\n"
    git_new = SEED.replace("koffie", "thee")
    assert merged_live_text(SEED, live, git_new) == git_new + "Anna typt hier 😀.\n"


def test_git_and_live_changing_the_same_words_keep_both() -> None:
    live = SEED.replace("koffie ☕", "cola 🥤")
    git_new = SEED.replace("koffie ☕", "thee 🍵")
    merged = merged_live_text(SEED, live, git_new)
    assert "Daarna cola 🥤.\nDaarna thee 🍵.\n" in merged
