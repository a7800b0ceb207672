"""handouts new: a new sheet from the project's template, or the start of a translation.

A new sheet in the original language is ``templates/new-sheet/<lang>.md`` with its title and
today's date filled in (``${title}``, ``${updated}``; string.Template, so Markdown's own
braces and dollars are left alone). A new translation starts from the original: its body
(headings, lists, call-outs as they are, for the translator to put into words) and its
version, with ``status: draft`` until a qualified medical translator has reviewed it.
Nothing is ever overwritten.
"""
from __future__ import annotations

import re
import string
from datetime import date
from pathlib import Path

from . import content, sandbox
from .config import Project
from .errors import ContentError, HandoutsError

TEMPLATE_DIR = "templates/new-sheet"


def new_sheet(project: Project, slug: str, lang: str | None = None, title: str | None = None,
              today: date | None = None) -> Path:
    """Write content/<lang>/<slug>.md and return its path; refuse what would go wrong."""
    languages = project.config.languages
    lang = lang or project.config.source_language
    if lang not in languages:
        raise HandoutsError(f"--lang: expected one of {', '.join(languages)} (handouts.toml), found {lang!r}")
    if not content.SLUG.match(slug):
        raise HandoutsError(f"expected a slug of lowercase letters and digits joined by hyphens, such as "
                            f"knee-injection, found {slug!r}")
    path = project.root / "content" / lang / f"{slug}.md"
    if sandbox.file_kind(path) != "nothing":
        raise ContentError(path, "already exists; expected a new slug (nothing is overwritten)")
    today = today or date.today()
    if lang == project.config.source_language:
        text = _from_template(project, lang, title or slug.replace("-", " ").capitalize(), today)
    else:
        text = _translation(project, slug, lang, title, today)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as file:  # "x": never overwrite, even in a race
        file.write(text)
    return path


def _from_template(project: Project, lang: str, title: str, today: date) -> str:
    template = project.root / TEMPLATE_DIR / f"{lang}.md"
    if sandbox.file_kind(template) == "nothing":
        template = project.root / TEMPLATE_DIR / f"{project.config.source_language}.md"
    try:
        text = sandbox.read_file(project.root, template, 1024 * 1024).decode("utf-8")
    except (sandbox.UnreadableFile, UnicodeDecodeError) as problem:
        raise ContentError(template, f"cannot be read as the new sheet's template: {problem}") from None
    return string.Template(text).safe_substitute(title=_yaml_string(title), updated=today.isoformat())


def _translation(project: Project, slug: str, lang: str, title: str | None, today: date) -> str:
    source = project.config.source_language
    original_path = project.root / "content" / source / f"{slug}.md"
    if sandbox.file_kind(original_path) == "nothing":
        raise ContentError(original_path, f"does not exist; a translation starts from its original "
                                          f"(write it first: handouts new {slug})")
    original = content.load_handout(original_path, source)
    front = [f"title: {_yaml_string(title or original.title)}",
             f"version: {_yaml_string(original.version)}",
             f"updated: {today.isoformat()}",
             "status: draft"]
    # The translation keeps the original's page budgets, which the original's key lines name.
    front += [f"{key}: {getattr(original, key)}" for key in ("max_pages", "max_pages_large")
              if key in original.key_lines]
    return "---\n" + "\n".join(front) + "\n---\n\n" + original.body.lstrip("\n")


def _yaml_string(value: str) -> str:
    """A value as a double-quoted YAML string: a title with a colon or a quote stays one value."""
    return '"' + re.sub(r'(["\\])', r"\\\1", str(value).replace("\n", " ")) + '"'
