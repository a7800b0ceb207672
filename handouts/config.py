"""handouts.toml -> Config: the clinic's facts and the build's defaults.

The file is small and written by people, so it is checked strictly: an unknown table or key
is an error with its line and the closest known name, never silently ignored.
"""
from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import dates, sandbox
from .content import SLUG
from .errors import ConfigError, unknown_name

CONFIG_FILE = "handouts.toml"
#: The folders a sheet is made from, beside handouts.toml.
INPUT_FOLDERS = ("content", "templates", "styles", "assets")


def input_paths(root: Path) -> list[Path]:
    """What a build reads from the project: the folders above that exist, and handouts.toml."""
    root = Path(root)
    paths = [root / name for name in INPUT_FOLDERS if (root / name).is_dir()]
    return paths + [root / CONFIG_FILE] * (root / CONFIG_FILE).is_file()


#: Paper sizes we print on, as CSS ``@page { size }`` values.
PAPERS = {"letter": "letter", "a4": "A4"}
#: The same papers' width and height in points.
PAPER_POINTS = {"letter": (612.0, 792.0), "a4": (595.276, 841.89)}
#: A language is a folder name and a locale: ``es``, ``en``, ``pt-BR`` (never ``../x``).
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
#: The edition that prints a sheet and its translation together (see [build] bilingual).
BILINGUAL = "bilingual"


@dataclass(frozen=True)
class Clinic:
    name: str
    phone: str
    address: str
    web: str
    logo: str
    # Where each sheet can be read online, as a pattern: "https://.../{lang}/{slug}". Page 1
    # then carries a QR code to the sheet's own address; empty, no code.
    sheet_url: str = ""
    time_zone: str = "UTC"  # an IANA name; the web page's dates and the print log's times


@dataclass(frozen=True)
class Emergency:
    emergency: str
    crisis: str


@dataclass(frozen=True)
class Thresholds:
    """What ``handouts check`` accepts; see the [check] table of handouts.toml."""

    grade_fail: float = 8  # English: a Flesch-Kincaid grade above this fails...
    grade_warn: float = 6  # ...and above this warns
    ease_fail: float = 60  # Spanish: a Fernandez-Huerta ease below this fails (higher is easier)...
    ease_warn: float = 70  # ...and below this warns
    contrast_min: float = 4.5  # WCAG AA for normal text
    review_warn_days: int = 30  # warn this many days before a review falls due
    # The paper check, per edition (an edition not named takes the standard's), in points:
    # the smallest text a sheet may print, and the smallest the clinic's numbers may be.
    smallest_text: dict = field(default_factory=lambda: {"standard": 9, "large-print": 14})
    number_size: dict = field(default_factory=lambda: {"standard": 12, "large-print": 18})

    def size_for(self, sizes: dict, edition: str) -> float:
        """An edition's size from one of the tables above."""
        return sizes.get(edition, sizes.get("standard", 0))


@dataclass(frozen=True)
class Server:
    """The web app's settings; see the [server] table of handouts.toml."""

    access_code: str = ""  # asked once per browser when serving beyond this computer
    print_log: str = ".handouts/print-log.sqlite3"  # relative to the project
    printer: str = ""  # a CUPS printer's name: the web page offers Send to printer


@dataclass(frozen=True)
class Config:
    clinic: Clinic
    emergency: Emergency
    paper: str
    languages: tuple[str, ...]  # the first is the one every other translates
    editions: tuple[str, ...]
    bilingual: tuple[str, ...] = ()  # (original, translation) that the bilingual edition pairs
    thresholds: Thresholds = Thresholds()
    server: Server = Server()
    packet: tuple[str, ...] = ()  # the sheets a release joins into one patient packet, in order
    print_seconds: float = 60  # a print that takes longer is stopped
    print_megabytes: int = 400  # ...and so is one that needs more memory than this

    @property
    def source_language(self) -> str:
        return self.languages[0]


@dataclass(frozen=True)
class Project:
    """A loaded project: its root folder, its configuration and its release number."""

    root: Path
    config: Config
    release: str

    @property
    def content_dir(self) -> Path:
        return self.root / "content"


#: The longest each text of handouts.toml may be: every sheet prints them on one or two lines.
MAX_LENGTHS = {"name": 80, "phone": 30, "address": 160, "web": 100, "logo": 200, "emergency": 20,
               "crisis": 20, "access_code": 200, "print_log": 200, "sheet_url": 100, "time_zone": 60,
               "printer": 127}
#: The [check] keys that map edition names to sizes in points.
SIZE_TABLES = ("smallest_text", "number_size")
#: A CUPS printer's name: printable characters but space, slash and hash; never an option.
PRINTER = re.compile(r"^[^\s/#\\'\"-][^\s/#\\'\"]*$")
#: A phone number as people write it: digits, spaces, + ( ) - and dots, with at least 3 digits.
PHONE = re.compile(r"^\+?[\d\s().-]*$")

# What each table may hold: key -> expected Python type.
SCHEMA = {
    "clinic": {"name": str, "phone": str, "address": str, "web": str, "logo": str, "sheet_url": str,
               "time_zone": str},
    "emergency": {"emergency": str, "crisis": str},
    "build": {"paper": str, "languages": list, "editions": list, "bilingual": list,
              "print_seconds": float, "print_megabytes": float},
    "check": {name: dict if name in SIZE_TABLES else float for name in Thresholds.__dataclass_fields__},
    "server": {"access_code": str, "print_log": str, "printer": str},
    "release": {"packet": list},
}
DEFAULTS = {
    "clinic": {"sheet_url": "", "time_zone": "UTC"},
    "build": {"paper": "letter", "languages": ["en"], "editions": ["standard"], "bilingual": [],
              "print_seconds": 60, "print_megabytes": 400},
    "check": {name: getattr(Thresholds(), name) for name in Thresholds.__dataclass_fields__},
    "server": dict(vars(Server())),
    "release": {"packet": []},
}



def load_project(root: Path) -> Project:
    """Load ``root/handouts.toml`` and the release number from ``root/pyproject.toml``."""
    root = Path(root)
    return Project(root=root, config=load_config(root / CONFIG_FILE), release=_release(root))


def load_config(path: Path) -> Config:
    if sandbox.file_kind(path) == "nothing":
        raise ConfigError(path, "no handouts.toml here; run in a project folder or pass -C DIR")
    try:
        text = sandbox.read_file(path.parent, path, 1024 * 1024).decode("utf-8")
    except sandbox.UnreadableFile as problem:
        raise ConfigError(path, str(problem)) from None
    except UnicodeDecodeError as error:
        raise ConfigError(path, f"expected UTF-8 text, found byte {error.object[error.start]:#04x}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"\(at line (\d+), column \d+\)", str(error))
        message = re.sub(r"\s*\(at line.*\)", "", str(error))
        raise ConfigError(path, f"TOML syntax error: {message}", int(match[1]) if match else None)
    tables = _validated(path, text, data)
    _check_values(path, text, tables)
    build = tables["build"]
    return Config(
        clinic=Clinic(**tables["clinic"]),
        emergency=Emergency(**tables["emergency"]),
        paper=build["paper"],
        languages=tuple(build["languages"]),
        editions=tuple(build["editions"]),
        bilingual=tuple(build["bilingual"]),
        thresholds=Thresholds(**{key: {**DEFAULTS["check"][key], **value} if key in SIZE_TABLES else value
                                 for key, value in tables["check"].items()}),
        server=Server(**tables["server"]),
        packet=tuple(tables["release"]["packet"]),
        print_seconds=float(build["print_seconds"]),
        print_megabytes=int(build["print_megabytes"]),
    )


def _validated(path: Path, text: str, data: dict) -> dict:
    """Check tables, keys and types against SCHEMA; fill in defaults."""
    for table, value in data.items():
        if table not in SCHEMA:
            raise ConfigError(path, unknown_name("table", table, SCHEMA), line_of(text, rf"\[{table}\]"))
        if not isinstance(value, dict):
            raise ConfigError(path, f"expected a [{table}] table, found a value", line_of(text, table))
    tables = {}
    for table, keys in SCHEMA.items():
        given = {**DEFAULTS.get(table, {}), **data.get(table, {})}
        for key, value in given.items():
            if key not in keys:
                raise ConfigError(path, unknown_name(f"key in [{table}]", key, keys), line_of(text, key))
            if not _has_type(value, keys[key]):
                wanted = {list: "a list of strings", str: "a string", float: "a number",
                          dict: "a table of edition = size in points, such as "
                                "{ standard = 12, large-print = 18 }"}[keys[key]]
                raise ConfigError(path, f"[{table}] {key}: expected {wanted}, found {value!r}",
                                  line_of(text, key))
        missing = [key for key in keys if key not in given]
        if missing:
            raise ConfigError(path, f"[{table}] is missing {', '.join(missing)}",
                              line_of(text, rf"\[{table}\]"))
        tables[table] = given
    return tables


def _has_type(value, expected: type) -> bool:
    if expected is dict:  # edition name -> a size in points
        return isinstance(value, dict) and all(_has_type(size, float) and size > 0
                                               for size in value.values())
    if expected is float:  # a whole number will do; true and false will not
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected is list:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, expected)


def _check_values(path: Path, text: str, tables: dict) -> None:
    """The paper is one we know; the logo, each edition's stylesheet and each sheet of the
    packet exist; there is at least one language and one edition; the numbers every sheet
    prints are phone numbers."""
    root = path.parent
    for table in ("clinic", "emergency", "server"):
        for key, value in tables[table].items():
            if len(value) > MAX_LENGTHS[key]:
                raise ConfigError(path, f"[{table}] {key}: expected at most {MAX_LENGTHS[key]} "
                                        f"characters, found {len(value)}", line_of(text, key))
    for table, key, example in (("clinic", "phone", "(480) 555-0142"), ("emergency", "emergency", "911"),
                                ("emergency", "crisis", "988")):
        number = tables[table][key]
        if not PHONE.match(number) or sum(char.isdigit() for char in number) < 3:
            raise ConfigError(path, f"[{table}] {key}: expected a phone number that every sheet can "
                                    f"print, such as \"{example}\", found {number!r}",
                              line_of(text, key))
    try:
        dates.zone(tables["clinic"]["time_zone"])
    except ValueError as problem:
        raise ConfigError(path, f"[clinic] time_zone: {problem}", line_of(text, "time_zone")) from None
    printer = tables["server"]["printer"]
    if printer and not (PRINTER.match(printer) and printer.isprintable()):
        raise ConfigError(path, f"[server] printer: expected the name of a CUPS printer, as "
                                f"`lpstat -e` lists them, found {sandbox.excerpt(printer, 40)!r}",
                          line_of(text, "printer"))
    paper, logo = tables["build"]["paper"], tables["clinic"]["logo"]
    if paper not in PAPERS:
        raise ConfigError(path, unknown_name("paper", paper, PAPERS), line_of(text, "paper"))
    try:
        sandbox.resolve(root, logo)
    except sandbox.SandboxViolation as violation:
        raise ConfigError(path, f"logo: expected an image file in assets/; {violation}",
                          line_of(text, "logo")) from None
    if not tables["build"]["languages"]:
        raise ConfigError(path, "languages: expected at least one, such as [\"en\"]",
                          line_of(text, "languages"))
    for lang in tables["build"]["languages"]:
        if problem := _language_problem(lang):
            raise ConfigError(path, f"languages: expected a language code such as \"en\" or "
                                    f"\"es\", found {sandbox.excerpt(lang, 20)!r} ({problem})",
                              line_of(text, "languages"))
    if not tables["build"]["editions"]:
        raise ConfigError(path, "editions: expected at least one, such as [\"standard\"]; with none, "
                                "a build prints nothing", line_of(text, "editions"))
    for key in ("print_seconds", "print_megabytes"):
        if tables["build"][key] <= 0:
            raise ConfigError(path, f"[build] {key}: expected a number above 0, found "
                                    f"{tables['build'][key]!r}", line_of(text, key))
    for key in SIZE_TABLES:
        for edition in tables["check"][key]:
            if edition not in tables["build"]["editions"] and edition not in DEFAULTS["check"][key]:
                raise ConfigError(path, f"[check] {key}: {unknown_name('edition', edition, tables['build']['editions'])}",
                                  line_of(text, key))
    for edition in tables["build"]["editions"]:
        if not re.match(r"^[a-z0-9]+(-[a-z0-9]+)*$", edition):
            raise ConfigError(path, f"editions: expected names such as \"large-print\", found "
                                    f"{sandbox.excerpt(edition, 20)!r}", line_of(text, "editions"))
        if edition != "standard" and not (root / "styles" / "editions" / f"{edition}.css").is_file():
            raise ConfigError(path, f"edition {edition!r}: expected styles/editions/{edition}.css",
                              line_of(text, "editions"))
    _check_bilingual(path, text, tables["build"])
    _check_sheet_url(path, text, tables["clinic"]["sheet_url"])
    _check_packet(path, text, tables)


def _check_bilingual(path: Path, text: str, build: dict) -> None:
    """The bilingual edition pairs the original language with one other configured language."""
    pair, languages = build["bilingual"], build["languages"]
    if not pair:
        if BILINGUAL in build["editions"]:
            raise ConfigError(path, f"editions: the bilingual edition needs its two languages in "
                                    f"[build], such as bilingual = [\"{languages[0]}\", \"es\"]",
                              line_of(text, "editions"))
        return
    if len(pair) != 2 or pair[0] != languages[0] or pair[1] not in languages[1:]:
        found = ", ".join(sandbox.excerpt(lang, 20) for lang in pair) or "nothing"
        raise ConfigError(path, f"bilingual: expected the original language {languages[0]!r} and "
                                f"one other of languages ({', '.join(languages[1:]) or 'none yet'}), "
                                f"found {found}", line_of(text, "bilingual"))


def _check_sheet_url(path: Path, text: str, pattern: str) -> None:
    """A web address with {slug} (and maybe {lang}) and no other placeholder; empty is none."""
    if not pattern:
        return
    line = line_of(text, "sheet_url")
    try:
        names = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(pattern)
                 if name is not None]
    except ValueError:
        raise ConfigError(path, f"sheet_url: expected {{lang}} and {{slug}} in braces, found an unpaired "
                                f"brace in {sandbox.excerpt(pattern, 60)!r}", line) from None
    if other := [name for name, spec, conversion in names
                 if name not in ("lang", "slug") or spec or conversion]:
        raise ConfigError(path, f"sheet_url: expected only the placeholders {{lang}} and {{slug}}, "
                                f"found {{{sandbox.excerpt(other[0], 20)}}}", line)
    address = pattern.format(lang="en", slug="sheet")
    if "slug" not in [name for name, _, _ in names]:
        raise ConfigError(path, "sheet_url: expected {slug} in the address, so that each sheet's "
                                "code opens that sheet", line)
    if not re.match(r"^https?://[\w.-]+(:\d+)?(/[\w.~!$&'()*+,;=:@%/?-]*)?$", address, re.ASCII):
        raise ConfigError(path, f"sheet_url: expected a web address starting https:// or http://, "
                                f"without spaces or quotes, found {sandbox.excerpt(pattern, 60)!r}", line)


def _check_packet(path: Path, text: str, tables: dict) -> None:
    """Every sheet of the release's patient packet exists in the original language: a missing
    one would leave the packet out of the release."""
    source = tables["build"]["languages"][0]
    folder = path.parent / "content" / source
    for name in tables["release"]["packet"]:
        if not SLUG.match(name) or sandbox.file_kind(folder / f"{name}.md") == "nothing":
            known = sorted(sheet.stem for sheet in folder.glob("*.md"))
            raise ConfigError(path, f"packet: expected sheets of content/{source}/, found "
                                    f"{sandbox.excerpt(name, 40)!r}, which is not one; the sheets "
                                    f"there are: {', '.join(known) or 'none yet'}", line_of(text, "packet"))


def _language_problem(lang: str) -> str | None:
    """Why ``lang`` cannot name a content folder and a locale, or None when it can."""
    if not LANGUAGE_CODE.match(lang):
        return "two or three lowercase letters, with an optional region such as -MX"
    from babel import Locale, UnknownLocaleError  # dates are written out in the language
    try:
        Locale.parse(lang, sep="-")
    except (UnknownLocaleError, ValueError):
        return "no locale of that name is known"
    return None


def _release(root: Path) -> str:
    """The project's version, from pyproject.toml: it names the release in the manifest."""
    try:
        return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    except (FileNotFoundError, KeyError, tomllib.TOMLDecodeError):
        from importlib.metadata import version
        return version("handouts")


def line_of(text: str, key: str) -> int | None:
    """The first line of a TOML text that defines ``key`` (a regex); tomllib keeps no positions."""
    pattern = re.compile(rf"^\s*{key}\s*(=|$)" if not key.startswith(r"\[") else rf"^\s*{key}")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.search(line):
            return number
    return None

