"""One small family of errors, each a message for the person running the build.

Every error that a user can fix names the file (and the line, where there is one) so that it
reads like a compiler message: ``content/en/aftercare.md:3: expected ..., found ...``.
"""
import difflib
import os
from pathlib import Path

import click


def display_path(path: Path | str) -> str:
    """The path as the user would type it: relative to the working directory when inside it."""
    path = Path(os.path.abspath(path))  # the name as given: a link is named, never followed
    try:
        return str(path.relative_to(Path(os.path.abspath(os.getcwd()))))
    except ValueError:
        return os.fspath(path)


class HandoutsError(click.ClickException):
    """Base of all errors: click turns it into a message on stderr and exit status 1."""

    exit_code = 1

    def show(self, file=None) -> None:
        # Our messages already start with the location, so no "Error:" prefix.
        click.echo(self.format_message(), file=file, err=True)


class InputError(HandoutsError):
    """A problem in one file: ``path:line: message`` (or ``path: message`` with no line)."""

    def __init__(self, path: Path | str, message: str, line: int | None = None):
        self.path = Path(path)
        self.line = line
        self.detail = message
        location = display_path(path) + (f":{line}" if line else "")
        super().__init__(f"{location}: {message}")

    def __reduce__(self):  # crosses from a build worker to the process that reports it
        return self.__class__, (self.path, self.detail, self.line)


class ConfigError(InputError):
    """handouts.toml is broken or asks for something that does not exist."""


class ContentError(InputError):
    """A content file's front matter or Markdown is wrong."""


class BuildError(InputError):
    """A handout could not be printed: sandbox, template, page budget or a strict warning."""


def unknown_name(what: str, name: str, known) -> str:
    """'unknown key 'titel'; expected one of: ... (did you mean 'title'?)'."""
    known = list(known)
    message = f"unknown {what} {name!r}; expected one of: {', '.join(known)}"
    close = difflib.get_close_matches(name, known, n=1)
    return message + (f" (did you mean {close[0]!r}?)" if close else "")
