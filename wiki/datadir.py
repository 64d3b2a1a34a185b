"""The data directory: opens (and on first use creates) repository, database and secret."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from storage.history import History
from storage.repository import Person, Repository
from wiki import indexwake
from wiki.accounts import Accounts
from wiki.attachments import Attachments
from wiki.changes import SERVER, ChangeDoor
from wiki.chapter_templates import ChapterTemplates
from wiki.comments import Comments
from wiki.config import Settings
from wiki.db import Database, open_database
from wiki.drafts import Drafts
from wiki.githooks import install_hooks
from wiki.imagefetch import Fetcher
from wiki.imageproxy import ImageProxy
from wiki.indexer import Indexer
from wiki.indexwake import Bell
from wiki.invites import Invites
from wiki.mailer import Mailer
from wiki.maintenance import Housekeeper
from wiki.mentions import MentionIndex
from wiki.notifications import Notifications
from wiki.pagemeta import PageMeta
from wiki.pages import PageStore
from wiki.passages import PassagePlaces
from wiki.phases import Phases
from wiki.presence import Presence
from wiki.pushlog import PushLog
from wiki.reactions import Reactions
from wiki.render import Renderer
from wiki.resets import PasswordResets
from wiki.suggestions import Suggestions
from wiki.wikilang import N_, WikiLanguage
from wiki.wiring import wire

# The first page, in the wiki's language: its title, a paragraph, then list items,
# one catalog entry each.
WELCOME = (
    N_("# Welcome to cowiki"),
    N_("This wiki holds one whitepaper, written together. Every save is kept with the name of"
       " the person who made it, so the history shows who contributed what."),
    N_("- Create a page with **New page**, or link to one that does not exist yet:"
       " [[Introduction]]."),
    N_("- Edit any page; if someone else saved meanwhile, your changes are merged."),
    N_("- Prefer your own editor? Clone the wiki with git and push your changes."),
)


def welcome(language: WikiLanguage) -> str:
    """The Home page `cowiki init` writes, in the wiki's language."""
    title, intro, *items = (language.text(text) for text in WELCOME)
    return f"{title}\n\n{intro}\n\n" + "\n".join(items) + "\n"


@dataclass(frozen=True)
class Services:
    """Everything the web app and the CLI work with, for one data directory.

    `changes` is the front door every write goes through (wiki/changes.py);
    the stores below it are the only ones views and the CLI use.
    """

    settings: Settings
    repo: Repository
    history: History
    pagemeta: PageMeta
    changes: ChangeDoor
    pages: PageStore
    attachments: Attachments
    renderer: Renderer
    db: Database
    accounts: Accounts
    housekeeper: Housekeeper
    indexer: Indexer
    comments: Comments
    passages: PassagePlaces  # where passage comments sit in the current text
    reactions: Reactions
    drafts: Drafts
    presence: Presence
    invites: Invites
    resets: PasswordResets
    pushlog: PushLog
    phases: Phases
    language: WikiLanguage
    images: ImageProxy | None  # when COWIKI_REMOTE_IMAGES=proxied
    templates: ChapterTemplates  # chapter templates a new page starts from
    notifications: Notifications
    suggestions: Suggestions
    mailer: Mailer | None  # when COWIKI_SMTP_HOST is set; app.py starts its thread

    @property
    def server(self) -> Person:
        """The identity that commits the wiki's own changes."""
        return self.repo.committer


def open_data_dir(settings: Settings) -> Services:
    """Open the data directory, creating repository, database and secret on first use."""
    root = Path(settings.data_dir)
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("exports", "index"):
        (root / sub).mkdir(exist_ok=True)
    committer = Person(settings.committer_name, settings.committer_email)
    repo = Repository.init(root / "repo.git", committer)
    install_hooks(repo.path)
    # History answered from the page-metadata cache where it is exact, else by git.
    history = PageMeta(repo, root / "pagemeta.db", root / "pagemeta.lock")
    db = open_database(settings)
    db.migrate()
    images = open_image_proxy(settings)
    door, accounts = ChangeDoor(), Accounts(db)
    renderer = Renderer.for_settings(settings, proxy=images.token if images else None)
    language = WikiLanguage(settings.language, db)
    notifications = Notifications(db, mail_enabled=bool(settings.smtp_host))
    pages = PageStore(repo, history, settings.max_page_bytes, door, language)
    comments = Comments(db, renderer, notifications, MentionIndex(accounts))
    services = Services(
        settings=settings,
        repo=repo,
        history=history,
        pagemeta=history,
        changes=door,
        pages=pages,
        attachments=Attachments(repo, settings.max_attachment_bytes, door, language),
        renderer=renderer,
        db=db,
        accounts=accounts,
        housekeeper=Housekeeper(history, root / "housekeeping.lock"),
        indexer=Indexer(repo, root / "index", root / "index.lock", renderer, accounts, language,
                        Bell(indexwake.socket_path(root))),
        comments=comments,
        passages=PassagePlaces(db),
        reactions=Reactions(db),
        drafts=Drafts(db, settings.max_page_bytes),
        presence=Presence(db),
        invites=Invites(accounts),
        resets=PasswordResets(accounts),
        pushlog=PushLog(db),
        phases=Phases(db, repo, door),
        language=language,
        images=images,
        templates=ChapterTemplates(repo, door, language, settings.max_page_bytes),
        notifications=notifications,
        mailer=Mailer(db, settings, language, notifications) if settings.smtp_host else None,
        suggestions=Suggestions(db, pages, comments, accounts, language, notifications.notify),
    )
    wire(services)
    if repo.head() is None:
        services.pages.save("Home", welcome(language), None, committer,
                            language.commit_message("init"), SERVER)
    return services


def open_image_proxy(settings: Settings) -> ImageProxy | None:
    """The image proxy, when the wiki shows remote images through itself."""
    if settings.remote_image_policy() != "proxied":
        return None
    return ImageProxy(secret_key(settings), Path(settings.data_dir) / "cache" / "images",
                      Fetcher(max_bytes=settings.image_max_bytes), settings.image_cache_bytes)


def secret_key(settings: Settings) -> str:
    """The configured secret, else one generated once and kept in the data dir (0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        # Written aside and linked into place, so two starting workers agree on one key.
        spare = path.with_name(f"secret_key.{os.getpid()}")
        spare.touch(mode=0o600)
        spare.write_text(secrets.token_hex(32))
        try:
            os.link(spare, path)
        except FileExistsError:
            pass
        finally:
            spare.unlink()
    return path.read_text().strip()
