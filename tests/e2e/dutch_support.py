"""What is English on a Dutch screen, for the browser tests of the Dutch interface.

Two checks over the visible text of a screen (its lines, its title, and the title,
aria-label, placeholder and alt attributes):

- a text that is an English msgid of the catalogs, whose Dutch translation differs and
  which is no Dutch text itself (so a text someone forgot to translate);
- a word that English catalog texts use and no Dutch translation does, or a common
  English word no Dutch translation uses (so English that never reached the catalogs:
  a text outside gettext, in a script, or new and not yet translated).

What people wrote (page text, comments, commit messages, diffs) is left out, and people's
names, page titles, product names, numbers, revisions, links and e-mail addresses are
allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po
from playwright.sync_api import Page

from tests.conftest import PASSWORDS

CATALOGS = Path(__file__).resolve().parent.parent.parent / "translations"
# What people wrote, not the interface: page text, previews, comments, diffs, messages.
WRITTEN = ("article.page", "#preview", ".comment-body", "textarea", "table.diff", ".blame .text",
           ".timeline .msg", ".snippet", "blockquote", "pre", "code", ".chapter-choice",
           "#outline-pages .name", "select#add", "select#ref")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}|%[sd]")
VISIBLE_TEXT = """(written) => {
  const hidden = [...document.querySelectorAll(written.join(","))]
    .map(el => [el, el.style.getPropertyValue("display")]);
  hidden.forEach(([el]) => el.style.setProperty("display", "none"));
  const lines = document.body.innerText.split("\\n");
  hidden.forEach(([el, display]) => el.style.setProperty("display", display));
  const inside = (el) => written.some(sel => el.closest(sel));
  for (const el of document.querySelectorAll("[title],[aria-label],[placeholder],[alt]")) {
    if (inside(el)) continue;
    for (const name of ["title", "aria-label", "placeholder", "alt"]) {
      const value = el.getAttribute(name);
      if (value) lines.push(value);
    }
  }
  lines.push(document.title);
  return lines.map(l => l.replace(/\\s+/g, " ").trim()).filter(Boolean);
}"""


@dataclass(frozen=True)
class EnglishText:
    """A catalog text whose Dutch differs, as a pattern over one visible line."""

    msgid: str
    pattern: re.Pattern[str]
    whole_line: bool  # short texts only count when they are the whole line

    def found_in(self, line: str) -> bool:
        if self.whole_line:
            return self.pattern.fullmatch(line) is not None
        return self.pattern.search(line) is not None


def pattern_of(msgid: str) -> tuple[re.Pattern[str], int]:
    """A regex for the text as a screen shows it (tags gone, placeholders any text), and
    how many words it has besides the placeholders."""
    plain = " ".join(re.sub(r"<[^>]+>", "", msgid).split())
    literals = PLACEHOLDER.split(plain)
    regex = ".+?".join(r"\s*".join(re.escape(word) for word in part.split(" ")) if part.strip()
                       else "" for part in literals)
    words = sum(len(part.split()) for part in literals)
    return re.compile(regex), words


@cache
def english_texts() -> tuple[EnglishText, ...]:
    """Every English msgid whose Dutch translation differs and is not Dutch itself.

    The msgids come from the committed English catalog (the .pot is made anew by
    extraction and not committed; tests/web/test_i18n.py keeps both catalogs
    complete)."""
    with open(CATALOGS / "nl" / "LC_MESSAGES" / "messages.po", "rb") as f:
        dutch = {m.id: m.string for m in read_po(f) if m.id}
    with open(CATALOGS / "en" / "LC_MESSAGES" / "messages.po", "rb") as f:
        english = [m.id for m in read_po(f) if m.id]
    dutch_texts = {" ".join(str(s).split()) for value in dutch.values()
                   for s in (value if isinstance(value, tuple) else (value,)) if s}
    found = []
    for msgid in english:
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        translated = dutch.get(msgid)
        forms = translated if isinstance(translated, tuple) else (translated,) * len(ids)
        for text, dutch_form in zip(map(str, ids), forms, strict=False):
            plain = " ".join(text.split())
            if not plain or plain == " ".join(str(dutch_form or "").split()) \
                    or plain in dutch_texts:
                continue
            regex, words = pattern_of(text)
            has_placeholder = PLACEHOLDER.search(text) is not None
            if words == 0 or (has_placeholder and words < 2):
                continue  # "%(name)s" alone matches anything
            found.append(EnglishText(text, regex, whole_line=words < 3))
    return tuple(found)


# Names the screens may show as they are: accounts, pages, files, products.
# ("participant" the account, not the role; "English" the language switch.)
NAMES = {*PASSWORDS, "Home", "cowiki", "git", "Git", "Word", "Markdown", "DOCX", "docx",
         "PNG", "JPEG", "GIF", "WebP", "Nederlands", "English", "UTC", "CET", "CEST"}
# Common English words: on a Dutch screen they are English unless a translation uses them.
COMMON = ("the and you your with this that from to for are has have will not which by on no "
          "yet been there what when who how new show hide here back more page pages edit save "
          "cancel accept accepted reject mark read unread follow suggestion suggested made "
          "changed change template import imported document image images")
# Links, e-mail addresses and a template's {placeholders} are not words of a language.
NOT_WORDS = re.compile(r"\S+://\S+|\S+@\S+|\{\w+\}")
WORD = re.compile(r"\w+(?:['’]\w+)*")  # with digits in it, a word is a number or revision


@cache
def english_words() -> frozenset[str]:
    """Lower-case words that English texts use and no Dutch translation does."""
    def words(texts: list[str]) -> set[str]:
        plain = (re.sub(r"%\(\w+\)[sd]|\{\w+\}|<[^>]+>", " ", t) for t in texts)
        return {w.lower() for t in plain for w in WORD.findall(t)}

    with open(CATALOGS / "nl" / "LC_MESSAGES" / "messages.po", "rb") as f:
        dutch = [str(s) for m in read_po(f) if m.id
                 for s in (m.string if isinstance(m.string, tuple) else (m.string,)) if s]
    with open(CATALOGS / "en" / "LC_MESSAGES" / "messages.po", "rb") as f:
        english = [str(i) for m in read_po(f) if m.id
                   for i in (m.id if isinstance(m.id, tuple) else (m.id,))]
    allowed = {name.lower() for name in NAMES}
    return frozenset((words(english) | set(COMMON.split())) - words(dutch) - allowed)


def english_in(lines: list[str]) -> list[tuple[str, str]]:
    """(line, what is English in it) for each line of `lines` that is not Dutch."""
    lines = [line for line in lines if line not in NAMES]
    found = [(line, text.msgid) for line in lines for text in english_texts()
             if text.found_in(line)]
    for line in lines:
        english = [w for w in WORD.findall(NOT_WORDS.sub(" ", line))
                   if w.lower() in english_words() and not re.search(r"[\d_]", w)]
        if english:
            found.append((line, " ".join(english)))
    return found


def leaks_on(page: Page, written: tuple[str, ...] = WRITTEN) -> list[tuple[str, str]]:
    """(visible line, what is English in it) on `page`, leaving out what people wrote."""
    return english_in(page.evaluate(VISIBLE_TEXT, list(written)))


def assert_dutch(found: dict[str, list[tuple[str, str]]]) -> None:
    """Fail with each screen that showed English, and what."""
    english = [f"{screen}: {leak}" for screen, leaks in found.items() for leak in leaks]
    assert not english, "English on Dutch screens:\n" + "\n".join(english)
