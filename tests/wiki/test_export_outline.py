"""The outline file, frozen versions and background export jobs."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from storage.errors import InvalidPageName
from storage.versions import freeze, list_versions
from tests.wiki.export_sample import ANNA, make_sample
from wiki.changes import SERVER
from wiki.config import Settings
from wiki.datadir import open_data_dir
from wiki.errors import InvalidInput
from wiki.export import outline as outlines
from wiki.export.build import export, resolve
from wiki.export.jobs import Jobs, Limits, job_id


def test_outline_is_a_committed_file_by_the_facilitator(tmp_path: Path) -> None:
    services = make_sample(tmp_path / "data")
    raw = services.repo.read(services.repo.head(), "outline.json")
    assert raw is not None and json.loads(raw)["title"] == "Samen sterker"
    assert services.history.log("outline.json", limit=1)[0].author == ANNA.name


def test_outline_without_file_lists_every_page_by_name(tmp_path: Path) -> None:
    services = open_data_dir(Settings.load({"data_dir": str(tmp_path / "d")}))
    services.pages.save("Zeta", "# Zeta\n", None, ANNA)
    outline = outlines.load(services.repo, services.repo.head(), "Mijn wiki")
    assert outline.title == "Mijn wiki" and outline.pages == ("Home", "Zeta")


@pytest.mark.parametrize("pages", [["../etc/passwd"], ["api/x"], ["a/edit"], [".git/config"]])
def test_outline_refuses_invalid_page_paths(pages: list[str]) -> None:
    with pytest.raises(InvalidPageName):
        outlines.parse({"title": "T", "pages": pages})


@pytest.mark.parametrize("data", [[], {"pages": []}, {"title": "T", "pages": "Home"},
                                  {"title": "T", "pages": ["A", "a"]},
                                  {"title": "T", "pages": [], "lang": "de"}])
def test_outline_refuses_malformed_json(data: object) -> None:
    with pytest.raises(InvalidInput):
        outlines.parse(data)


def test_outline_form_orders_by_position_removes_and_adds() -> None:
    entries = [("A", "3"), ("B", "1"), ("C", "x"), ("D", "2")]
    assert outlines.arrange(entries, {"D"}, "E") == ("B", "A", "C", "E")
    assert outlines.move(("A", "B", "C"), 2, -1) == ("A", "C", "B")
    assert outlines.move(("A", "B", "C"), 0, -1) == ("A", "B", "C")


def test_frozen_versions_number_up_and_export_their_own_commit(tmp_path: Path) -> None:
    services = make_sample(tmp_path / "data")
    first, _ = freeze(services.repo, services.repo.head() or "", ANNA)
    services.pages.save("Later", "# Later toegevoegd\n", None, ANNA)
    outline = outlines.load(services.repo, services.repo.head())
    outlines.save(services.repo, outlines.Outline(outline.title, pages=("Later",)), ANNA,
                  services.changes, SERVER)
    second, _ = freeze(services.repo, services.repo.head() or "", ANNA, "tweede")
    assert [v.name for v in list_versions(services.repo)] == ["whitepaper-v2", "whitepaper-v1"]
    assert second.message == "tweede"
    old = export(services.repo, services.history, resolve(services.repo, first.name), "html")
    assert b"Later toegevoegd" not in old and b"whitepaper-v1" in old
    new = export(services.repo, services.history, resolve(services.repo, "whitepaper-v2"), "html")
    assert b"Later toegevoegd" in new and b"Inleiding" not in new


def test_freezing_a_frozen_commit_returns_its_version_and_makes_no_new_tag(
        tmp_path: Path) -> None:
    services = make_sample(tmp_path / "data")
    head = services.repo.head() or ""
    first, created = freeze(services.repo, head, ANNA, "eerste")
    again, created_again = freeze(services.repo, head[:10], ANNA, "nog eens")
    assert (created, created_again) == (True, False)
    assert again == first and again.message == "eerste"
    assert [v.name for v in list_versions(services.repo)] == ["whitepaper-v1"]


def test_docx_and_epub_of_a_version_name_it_on_the_title_page(tmp_path: Path) -> None:
    services = make_sample(tmp_path / "data")
    version, _ = freeze(services.repo, services.repo.head() or "", ANNA)
    source = resolve(services.repo, version.name)
    line = f"Versie whitepaper-v1 ({version.commit[:10]}) · Gemaakt op "
    for fmt, part in (("docx", "word/document.xml"), ("epub", "EPUB/text/title_page.xhtml")):
        data = export(services.repo, services.history, source, fmt)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert line in archive.read(part).decode("utf-8"), fmt


def test_an_export_of_a_version_tag_is_its_own_job_that_carries_the_version(
        tmp_path: Path) -> None:
    services = make_sample(tmp_path / "data")
    jobs = Jobs(tmp_path / "data")
    untagged = jobs.wait(jobs.start(resolve(services.repo, None), "md").id, timeout=60)
    assert untagged.status == "done" and untagged.version is None, untagged.error
    freeze(services.repo, untagged.commit, ANNA)
    tagged = jobs.start(resolve(services.repo, "whitepaper-v1"), "md")
    assert tagged.id != untagged.id and tagged.version == "whitepaper-v1"
    assert tagged.commit == untagged.commit
    done = jobs.wait(tagged.id, timeout=60)
    with zipfile.ZipFile(jobs.result_path(done)) as archive:
        assert archive.namelist()[0].startswith("whitepaper-whitepaper-v1/")


def test_export_of_an_outline_with_missing_pages_says_which(tmp_path: Path) -> None:
    services = make_sample(tmp_path / "data")
    outline = outlines.load(services.repo, services.repo.head())
    pages = ("Inleiding", "Bestaat niet", "Methode", "Ook weg")
    outlines.save(services.repo, replace(outline, pages=pages), ANNA, services.changes, SERVER)
    jobs = Jobs(tmp_path / "data", Limits(running=0))  # paused: the job state is enough
    job = jobs.start(resolve(services.repo, None), "md")
    assert job.missing == ("Bestaat niet", "Ook weg")
    assert jobs.get(job.id).missing == ("Bestaat niet", "Ook weg")  # kept in the job's file
    assert outlines.missing_pages(services.repo, services.repo.head(), outline) == []


def test_same_commit_and_format_reuse_one_background_job(tmp_path: Path) -> None:
    services = make_sample(tmp_path / "data")
    jobs = Jobs(tmp_path / "data")
    source = resolve(services.repo, None)
    job = jobs.start(source, "md")
    again = jobs.start(source, "md")
    assert again.id == job.id == job_id(source.commit, "md")
    done = jobs.wait(job.id, timeout=60)
    assert done.status == "done" and done.progress == 1.0, done.error
    result = jobs.result_path(done)
    stamp = result.stat().st_mtime_ns
    assert jobs.start(source, "md").status == "done"
    assert result.stat().st_mtime_ns == stamp
    assert len(list((tmp_path / "data" / "exports").glob("*.zip"))) == 1


def test_export_job_over_its_memory_limit_fails_cleanly(tmp_path: Path) -> None:
    services = make_sample(tmp_path / "data")
    jobs = Jobs(tmp_path / "data", Limits(memory_bytes=64 * 1024**2))
    job = jobs.wait(jobs.start(resolve(services.repo, None), "pdf").id, timeout=60)
    assert job.status == "failed" and job.error


def test_killed_export_process_marks_the_job_failed_and_can_be_retried(tmp_path: Path) -> None:
    import os
    import signal
    import time

    services = make_sample(tmp_path / "data")
    jobs = Jobs(tmp_path / "data")
    source = resolve(services.repo, None)
    job = jobs.start(source, "pdf")
    deadline = time.monotonic() + 30
    while not (pid := jobs.get(job.id).pid) and time.monotonic() < deadline:
        time.sleep(0.02)  # the worker records its pid when it starts
    assert pid, "the export worker never started"
    os.kill(pid, signal.SIGKILL)
    failed = jobs.wait(job.id, timeout=30)
    assert failed.status == "failed" and "stopped" in (failed.error or "")
    retried = jobs.wait(jobs.start(source, "pdf").id, timeout=120)
    assert retried.status == "done" and jobs.result_path(retried).stat().st_size > 1000
