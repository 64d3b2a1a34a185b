"""Search: Dutch and English word forms, the query language, snippets, and an index
that follows git whatever moved the branch. Real git, real Whoosh, temp dirs."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from storage.repository import Person
from wiki.config import Settings
from wiki.datadir import Services, open_data_dir
from wiki.pagetext import detect_languages
from wiki.search import SearchResults
from wiki.search.spelling import edit_distance

ANNA = Person("Anna de Vries", "anna@example.org")
BRAM = Person("Bram Jansen", "bram@example.org")


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return open_data_dir(Settings.load({"data_dir": str(tmp_path / "data")}))


def save(services: Services, name: str, text: str, author: Person = ANNA) -> str:
    base = services.repo.head() if services.pages.find(name) else None
    return services.pages.save(name, text, base, author).revision


def search(services: Services, query: str, **options: object) -> SearchResults:
    services.indexer.catch_up()
    return services.indexer.search(query, **options)  # type: ignore[arg-type]


def paths(results: SearchResults) -> list[str]:
    return [hit.path for hit in results.hits]


def wait_for(check: object, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


DUTCH = "# Onze klanten\n\nDe klanten zijn tevreden over de aanpak van het project.\n"
ENGLISH = "# Build notes\n\nThe team is running the build and it is not what they want.\n"


def test_dutch_plural_is_found_by_its_singular(services: Services) -> None:
    save(services, "klanten", DUTCH)
    assert paths(search(services, "klant")) == ["klanten"]


def test_english_running_is_found_by_run(services: Services) -> None:
    save(services, "notes", ENGLISH)
    assert paths(search(services, "run")) == ["notes"]
    assert paths(search(services, "runs")) == ["notes"]


def test_language_is_detected_per_page() -> None:
    assert detect_languages("De klanten zijn tevreden over de aanpak van het project.") == ("nl",)
    assert detect_languages("The team is running the build and it is not what they want.") == (
        "en",)
    assert detect_languages("Roadmap", "nl") == ("nl",)  # too short: the wiki's language


def test_lang_restricts_search_to_pages_in_that_language(services: Services) -> None:
    save(services, "klanten", DUTCH + "\nHet project loopt.\n")
    save(services, "notes", ENGLISH + "\nThe project runs.\n")
    assert paths(search(services, "project", lang="nl")) == ["klanten"]
    assert paths(search(services, "project", lang="en")) == ["notes"]
    assert sorted(paths(search(services, "project"))) == ["klanten", "notes"]


def test_phrase_matches_only_words_in_that_order(services: Services) -> None:
    save(services, "a", "# A\n\nDe klanten zijn tevreden over het werk.\n")
    save(services, "b", "# B\n\nTevreden zijn de klanten niet over het werk.\n")
    assert paths(search(services, '"klanten zijn tevreden"')) == ["a"]


def test_prefix_finds_compound_words(services: Services) -> None:
    save(services, "service", "# Service\n\nDe klantenservice is open op maandag en dinsdag.\n")
    assert paths(search(services, "klant*")) == ["service"]


def test_fuzzy_finds_word_with_swapped_letters(services: Services) -> None:
    save(services, "klanten", DUTCH)
    assert paths(search(services, "klnat~")) == ["klanten"]
    assert edit_distance("klnat", "klant") == 1


def test_title_author_and_path_filters(services: Services) -> None:
    save(services, "hoofdstuk-1/intro", "# Inleiding\n\nDe energie van de wijk.\n", ANNA)
    save(services, "hoofdstuk-2/energie", "# Energie\n\nDe wijk en de bewoners.\n", BRAM)
    assert paths(search(services, "title:energie")) == ["hoofdstuk-2/energie"]
    assert paths(search(services, "energie author:anna")) == ["hoofdstuk-1/intro"]
    assert paths(search(services, "wijk path:hoofdstuk-2")) == ["hoofdstuk-2/energie"]


def test_and_or_not(services: Services) -> None:
    save(services, "a", "# A\n\nDe klanten en de bewoners.\n")
    save(services, "b", "# B\n\nDe klanten en de gemeente.\n")
    assert paths(search(services, "klanten AND bewoners")) == ["a"]
    assert paths(search(services, "klanten NOT bewoners")) == ["b"]
    assert sorted(paths(search(services, "bewoners OR gemeente"))) == ["a", "b"]


def test_title_match_ranks_above_body_match(services: Services) -> None:
    save(services, "body", "# Verslag\n\nWe spraken over duurzaamheid en nog veel meer.\n")
    save(services, "title", "# Duurzaamheid\n\nWe spraken over de wijk en nog veel meer.\n")
    assert paths(search(services, "duurzaamheid")) == ["title", "body"]


def test_snippet_highlights_matches_and_never_contains_a_script_tag(services: Services) -> None:
    save(services, "hostile",
         "# Hostile\n\nalert one <script>alert('x')</script> here\n\n"
         "Code: `<script>alert(2)</script>` and <b onclick=alert(3)>alert</b>\n")
    hits = search(services, "alert").hits
    assert len(hits) == 1
    assert "<mark>alert</mark>" in hits[0].snippet
    assert "<script" not in hits[0].snippet.lower()
    assert "onclick" not in hits[0].snippet


def test_hit_has_title_last_author_and_date(services: Services) -> None:
    save(services, "klanten", DUTCH, ANNA)
    save(services, "klanten", DUTCH + "\nNog een zin.\n", BRAM)
    hit = search(services, "klanten").hits[0]
    assert (hit.title, hit.author) == ("Onze klanten", "Bram Jansen")
    assert hit.date is not None


def test_unknown_word_gets_a_did_you_mean_suggestion(services: Services) -> None:
    save(services, "klanten", DUTCH)
    found = search(services, "klnaten")
    assert found.total == 0
    assert found.suggestion in {"klanten", "klant"}
    assert search(services, "klanten").suggestion is None


def test_results_are_paginated(services: Services) -> None:
    changes = {f"map/pagina-{n:02d}.md": f"# Pagina {n}\n\nDe klanten van {n}.\n".encode()
               for n in range(25)}
    services.repo.commit(lambda head: changes, ANNA, "Many pages")
    first, third = search(services, "klanten"), search(services, "klanten", page=3)
    assert (first.total, first.pages, len(first.hits)) == (25, 3, 10)
    assert len(third.hits) == 5
    assert not set(paths(first)) & set(paths(third))


def workshop_page(n: int, klanten: bool, bewoners: bool) -> bytes:
    title = "Energie" if n % 4 == 0 else "Verslag"
    words = ["De klanten zijn tevreden." if klanten else "Het project loopt.",
             "De bewoners praten mee." if bewoners else "De gemeente luistert."]
    return f"# {title} {n}\n\n{' '.join(words)}\n".encode()


def every_hit(services: Services, query: str) -> tuple[int, list[str]]:
    """The reported total, and the paths of all result pages walked three at a time."""
    first = search(services, query, per_page=3)
    found = paths(first)
    for number in range(2, first.pages + 1):
        found += paths(search(services, query, page=number, per_page=3))
    return first.total, found


def test_totals_count_each_matching_page_once_across_segments_and_deletions(
        services: Services) -> None:
    # Three index commits: the first segment then holds deleted (replaced) pages.
    spec = {n: (n % 2 == 0, n % 3 == 0) for n in range(14)}
    changes = {f"hoofdstuk-{n % 2}/p{n:02d}.md": workshop_page(n, *s) for n, s in spec.items()}
    services.repo.commit(lambda head: changes, ANNA, "Pages")
    services.indexer.catch_up()
    for n in (0, 3, 4, 9):
        spec[n] = (not spec[n][0], spec[n][1])
        save(services, f"hoofdstuk-{n % 2}/p{n:02d}", workshop_page(n, *spec[n]).decode())
    services.indexer.catch_up()
    del spec[6]
    head = services.repo.head()
    assert head is not None
    services.pages.delete("hoofdstuk-0/p06", head, BRAM)

    def pages(keep: Callable[[int, bool, bool], bool]) -> list[str]:
        return sorted(f"hoofdstuk-{n % 2}/p{n:02d}" for n, s in spec.items() if keep(n, *s))

    expected = {
        "klant": pages(lambda n, k, b: k),
        "NOT klanten": sorted(["Home", *pages(lambda n, k, b: not k)]),  # the start page too
        "klanten NOT bewoners": pages(lambda n, k, b: k and not b),
        "klanten OR bewoners": pages(lambda n, k, b: k or b),
        "klanten AND (bewoners OR gemeente)": pages(lambda n, k, b: k),
        "bewon*": pages(lambda n, k, b: b),
        "klnat~": pages(lambda n, k, b: k),
        "title:energie": pages(lambda n, k, b: n % 4 == 0),
        "bewoners path:hoofdstuk-1": pages(lambda n, k, b: b and n % 2 == 1),
        '"klanten zijn tevreden"': pages(lambda n, k, b: k),
        '"tevreden klanten"': [],
    }
    for query, wanted in expected.items():
        total, found = every_hit(services, query)
        assert (total, sorted(found)) == (len(wanted), wanted), query


def test_totals_are_exact_for_posting_lists_of_many_blocks(services: Services) -> None:
    spec = {n: (n % 3 != 0, n % 5 == 0) for n in range(400)}
    changes = {f"map/p{n:03d}.md": workshop_page(n, *s) for n, s in spec.items()}
    services.repo.commit(lambda head: changes, ANNA, "Many pages")
    services.indexer.catch_up()
    for n in range(0, 60, 3):  # replaced pages leave deleted documents behind
        spec[n] = (True, False)
        save(services, f"map/p{n:03d}", workshop_page(n, *spec[n]).decode())
    assert search(services, "klanten").total == sum(k for k, b in spec.values())
    assert search(services, "klanten NOT bewoners").total == sum(
        k and not b for k, b in spec.values())
    assert search(services, "project").total == sum(not k for k, b in spec.values())


def test_phrase_total_counts_pages_that_cannot_reach_the_first_page(services: Services) -> None:
    # Title matches fill the first page before the body-only matches are reached.
    titled = {f"a/p{n:02d}.md": f"# Klanten zijn tevreden {n}\n\nDe klanten zijn tevreden "
              f"over de aanpak.\n".encode() for n in range(12)}
    body_only = {f"b/p{n:02d}.md": (f"# Verslag {n}\n\nIn de wijk werd gezegd dat de klanten "
                 "zijn tevreden over het werk van de gemeente en de bewoners.\n").encode()
                 for n in range(6)}
    services.repo.commit(lambda head: {**titled, **body_only}, ANNA, "Pages")
    assert search(services, '"klanten zijn tevreden"').total == 18
    total, found = every_hit(services, '"klanten zijn tevreden"')
    assert (total, len(set(found))) == (18, 18)


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["git", "--git-dir", str(repo), *args], capture_output=True,
                          text=True, check=True, env={**os.environ, **(env or {})})
    return done.stdout.strip()


def commit_with_git(services: Services, tmp_path: Path, files: dict[str, str | None]) -> str:
    """A commit made by the git command line, as another program would, moving main."""
    repo = services.repo.path
    env = {"GIT_INDEX_FILE": str(tmp_path / "git-index"), "GIT_AUTHOR_NAME": "Cli Git",
           "GIT_AUTHOR_EMAIL": "cli@example.org", "GIT_COMMITTER_NAME": "Cli Git",
           "GIT_COMMITTER_EMAIL": "cli@example.org"}
    old = git(repo, "rev-parse", "refs/heads/main")
    git(repo, "read-tree", old, env=env)
    for path, text in files.items():
        if text is None:  # mode 0 removes the entry (no work tree needed)
            subprocess.run(["git", "--git-dir", str(repo), "update-index", "--index-info"],
                           input=f"0 {'0' * 40}\t{path}\n", text=True, check=True,
                           env={**os.environ, **env})
            continue
        blob = subprocess.run(["git", "--git-dir", str(repo), "hash-object", "-w", "--stdin"],
                              input=text, capture_output=True, text=True, check=True).stdout
        git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob.strip()},{path}",
            env=env)
    tree = git(repo, "write-tree", env=env)
    new = git(repo, "commit-tree", tree, "-p", old, "-m", "Direct commit", env=env)
    git(repo, "update-ref", "refs/heads/main", new, old)
    return new


def test_index_catches_up_with_a_commit_made_directly_with_git(
        services: Services, tmp_path: Path) -> None:
    save(services, "klanten", DUTCH)
    assert search(services, "klanten").total == 1
    commit_with_git(services, tmp_path, {"energie.md": "# Energie\n\nZonnepanelen op daken.\n",
                                         "klanten.md": None})
    found = services.indexer.search("zonnepanelen")  # no notify: the search sees it is behind
    assert paths(found) == ["energie"] and found.fresh
    assert services.indexer.search("klanten").total == 0
    assert services.indexer.search("zonnepanelen").hits[0].author == "Cli Git"


def test_catch_up_touches_only_the_changed_pages(services: Services) -> None:
    changes = {f"p{n}.md": f"# P{n}\n\nTekst {n}.\n".encode() for n in range(30)}
    services.repo.commit(lambda head: changes, ANNA, "Many pages")
    services.indexer.catch_up()
    save(services, "p7", "# P7\n\nNieuwe tekst over de grutto.\n")
    seen: list[tuple[int, int]] = []
    services.indexer.catch_up(progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (1, 1)
    assert paths(search(services, "grutto")) == ["p7"]


def test_rename_and_delete_leave_no_stale_hits(services: Services) -> None:
    save(services, "oud", DUTCH)
    services.pages.rename("oud", "nieuw", ANNA)
    assert paths(search(services, "klanten")) == ["nieuw"]
    services.pages.delete("nieuw", services.repo.head() or "", ANNA)
    assert search(services, "klanten").total == 0


def test_deleted_index_is_rebuilt_from_git(services: Services) -> None:
    save(services, "klanten", DUTCH)
    services.indexer.catch_up()
    shutil.rmtree(services.indexer.index.directory)
    assert wait_for(lambda: paths(services.indexer.search("klanten")) == ["klanten"])


def test_corrupt_index_is_rebuilt_from_git(services: Services) -> None:
    save(services, "klanten", DUTCH)
    services.indexer.catch_up()
    for file in services.indexer.index.directory.iterdir():
        if file.suffix in (".toc", ".seg"):
            file.write_bytes(b"not an index")
    assert wait_for(lambda: paths(services.indexer.search("klanten")) == ["klanten"])


def test_only_one_writer_at_a_time(services: Services) -> None:
    with open(services.indexer.lock_path, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # before the save, which wakes the background indexer
        save(services, "klanten", DUTCH)
        assert services.indexer.catch_up(blocking=False) is False
        assert not services.indexer.is_fresh()
    # Released: the background writer the save woke may take the lock first; waiting
    # for it (blocking) is what a second writer does.
    assert services.indexer.catch_up(blocking=True) is True
    assert services.indexer.is_fresh()


def test_notify_indexes_in_the_background(services: Services) -> None:
    services.indexer.catch_up()
    save(services, "klanten", DUTCH)
    services.indexer.notify()
    assert wait_for(services.indexer.is_fresh, seconds=2.0)
