"""One export: a commit and a format in, the file's bytes out.

`export` is what the background job, the CLI and the tests call. It resolves
the reference (head, version tag or hex revision), builds the intermediate
document once and hands it to the writer for the format.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.errors import InvalidRevision
from storage.history import History
from storage.repository import Repository
from storage.versions import is_version_name, list_versions, resolve_version, version_of
from wiki.errors import N_, InvalidInput
from wiki.export import FORMATS, bundle, pandoc
from wiki.export.compose import compose, stylesheet
from wiki.export.document import Document, Progress, build
from wiki.export.outline import load
from wiki.export.pdf import write_pdf
from wiki.people import Namer, git_name
from wiki.render import Renderer


@dataclass(frozen=True)
class Source:
    """What is exported: the resolved commit and, if reached by one, its version tag."""

    commit: str
    version: str | None


def resolve(repo: Repository, ref: str | None) -> Source:
    """Resolve '', 'main' or 'HEAD' (the head), a version tag or a hex revision.

    Raises:
        InvalidRevision: the reference names nothing.
    """
    ref = (ref or "").strip()
    if ref in ("", "main", "HEAD", "head"):
        head = repo.head()
        if head is None:
            raise InvalidRevision(N_("the wiki is empty"))
        tagged = version_of(list_versions(repo), head)
        return Source(head, tagged.name if tagged else None)
    if is_version_name(ref):
        return Source(resolve_version(repo, ref), ref)
    return Source(repo.resolve(ref), None)


def check_format(fmt: str) -> str:
    """`fmt` if it is an export format, else InvalidInput."""
    if fmt not in FORMATS:
        raise InvalidInput(N_("format must be one of {formats}"), formats=", ".join(FORMATS))
    return fmt


def render(doc: Document, repo: Repository, fmt: str) -> bytes:
    """Write the intermediate document in one format."""
    if fmt == "pdf":
        html = compose(doc, stylesheet("print.css"), lambda name: f"attachments/{name}")
        return write_pdf(html, repo, doc.commit)[0]
    if fmt == "html":
        return bundle.inline_html(doc, repo).encode("utf-8")
    if fmt == "md":
        return bundle.markdown_zip(doc, repo)
    html = compose(doc, "", lambda name: bundle.data_uri(repo, doc.commit, name),
                   front_matter=False)
    return pandoc.convert(html, doc, check_format(fmt))


def export(repo: Repository, history: History, source: Source, fmt: str,
           default_title: str = "Whitepaper", progress: Progress | None = None,
           shown: Namer = git_name, default_lang: str = "nl") -> bytes:
    """The whitepaper at `source` in format `fmt` ('pdf', 'html', 'docx', 'epub', 'md').

    `shown` names the authors in the credits (wiki.people.display_names); an outline
    that names no language is written in `default_lang` (the wiki's language).
    """
    check_format(fmt)
    report = progress or (lambda _f, _m: None)
    outline = load(repo, source.commit, default_title, default_lang)
    doc = build(repo, history, Renderer(), source.commit, outline, source.version,
                exclude=(repo.committer.email,), progress=report, shown=shown)
    report(0.65, f"writing {fmt}")
    data = render(doc, repo, fmt)
    report(1.0, "done")
    return data
