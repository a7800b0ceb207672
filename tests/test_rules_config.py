"""The rules of handouts.toml, each at its boundary: tables, keys, types, lengths, phone
numbers, the paper, the logo, languages, editions, limits and the packet. Each case changes
one line of a small project's handouts.toml and reads the message; no PDF is printed."""
from __future__ import annotations

import re
import shutil

import pytest

from handouts import config
from handouts.errors import ConfigError

from conftest import ROOT, run

GOOD = """\
[clinic]
name = "Clinic"
phone = "(480) 555-0142"
address = "1 Street"
web = "example.org"
logo = "assets/logo.svg"

[emergency]
emergency = "911"
crisis = "988"

[build]
paper = "letter"
languages = ["en", "es"]
editions = ["standard", "large-print"]
print_seconds = 60
print_megabytes = 400

[check]
grade_fail = 8

[server]
access_code = ""

[release]
packet = ["ketamine-aftercare"]
"""


@pytest.fixture
def toml(tmp_path):
    """Write handouts.toml (GOOD with one replacement) into a small project and load it;
    returns the Config or the error's 'line: message'."""
    (tmp_path / "assets").mkdir()
    shutil.copy(ROOT / "assets" / "logo.svg", tmp_path / "assets" / "logo.svg")
    (tmp_path / "styles" / "editions").mkdir(parents=True)
    (tmp_path / "styles" / "editions" / "large-print.css").write_text("")
    (tmp_path / "content" / "en").mkdir(parents=True)
    (tmp_path / "content" / "en" / "ketamine-aftercare.md").write_text("")

    def load(old: str = "", new: str = "", text: str | None = None):
        text = text if text is not None else GOOD.replace(old, new)
        assert text != GOOD or old == new, f"{old!r} is not in the test's handouts.toml"
        path = tmp_path / "handouts.toml"
        path.write_text(text)
        try:
            return config.load_config(path)
        except ConfigError as error:
            assert error.path == path
            return f"{error.line}: {error.detail}"
    return load


def test_the_good_file_loads_with_its_defaults(toml):
    loaded = toml()
    assert loaded.clinic == config.Clinic("Clinic", "(480) 555-0142", "1 Street", "example.org", "assets/logo.svg")
    assert loaded.emergency == config.Emergency("911", "988")
    assert (loaded.paper, loaded.languages, loaded.editions) == ("letter", ("en", "es"), ("standard", "large-print"))
    assert (loaded.print_seconds, loaded.print_megabytes, loaded.packet) == (60.0, 400, ("ketamine-aftercare",))
    assert loaded.thresholds == config.Thresholds() and loaded.server == config.Server()
    assert loaded.source_language == "en"


def test_leaving_out_build_check_server_and_release_takes_their_defaults(toml):
    loaded = toml(text=GOOD.split("[build]")[0])
    assert (loaded.paper, loaded.languages, loaded.editions, loaded.packet) == ("letter", ("en",), ("standard",), ())
    assert (loaded.print_seconds, loaded.print_megabytes) == (60, 400)


def test_a_size_table_keeps_the_editions_it_does_not_name(toml):
    loaded = toml("grade_fail = 8", "smallest_text = { standard = 10 }\nnumber_size = { large-print = 20.5 }")
    assert loaded.thresholds.smallest_text == {"standard": 10, "large-print": 14}
    assert loaded.thresholds.number_size == {"standard": 12, "large-print": 20.5}
    assert loaded.thresholds.size_for(loaded.thresholds.number_size, "other") == 12


@pytest.mark.parametrize("old, new, message", [
    ("[release]", "[releese]", "25: unknown table 'releese'; expected one of: clinic, emergency, build, "
                               "check, server, release (did you mean 'release'?)"),
    ('crisis = "988"', 'crisis = "988"\ncrysis = "988"',
     "11: unknown key in [emergency] 'crysis'; expected one of: emergency, crisis (did you mean 'crisis'?)"),
    ('phone = "(480) 555-0142"\n', "", "1: [clinic] is missing phone"),
    ('crisis = "988"\n', "", "8: [emergency] is missing crisis"),
    ('name = "Clinic"', "name = 3", "2: [clinic] name: expected a string, found 3"),
    ('["en", "es"]', '["en", 3]', "14: [build] languages: expected a list of strings, found ['en', 3]"),
    ('["en", "es"]', '"en"', "14: [build] languages: expected a list of strings, found 'en'"),
    ("print_seconds = 60", "print_seconds = true", "16: [build] print_seconds: expected a number, found True"),
    ("print_seconds = 60", 'print_seconds = "60"', "16: [build] print_seconds: expected a number, found '60'"),
    ("grade_fail = 8", "smallest_text = { standard = 0 }",
     "20: [check] smallest_text: expected a table of edition = size in points, such as "
     "{ standard = 12, large-print = 18 }, found {'standard': 0}"),
    ("grade_fail = 8", "smallest_text = 9", "20: [check] smallest_text: expected a table of edition = "
                                            "size in points, such as { standard = 12, large-print = 18 }, found 9"),
    ("grade_fail = 8", 'number_size = { standard = "12" }', "20: [check] number_size: expected a table of "
     "edition = size in points, such as { standard = 12, large-print = 18 }, found {'standard': '12'}"),
    ("[server]", "[server]\nport = 1", "23: unknown key in [server] 'port'; expected one of: access_code, "
                                       "print_log, printer"),
    ("print_seconds = 60", "print_seconds = 0", "16: [build] print_seconds: expected a number above 0, found 0"),
    ("print_megabytes = 400", "print_megabytes = -1",
     "17: [build] print_megabytes: expected a number above 0, found -1"),
    ('paper = "letter"', 'paper = "lettre"', "13: unknown paper 'lettre'; expected one of: letter, a4 (did you mean 'letter'?)"),
    ('["en", "es"]', "[]", '14: languages: expected at least one, such as ["en"]'),
    ('["standard", "large-print"]', "[]", '15: editions: expected at least one, such as ["standard"]; with '
                                          'none, a build prints nothing'),
    ('"large-print"]', '"Large Print"]', "15: editions: expected names such as \"large-print\", found 'Large Print'"),
    ('"large-print"]', f'"{"X" * 21}"]', f"15: editions: expected names such as \"large-print\", found "
                                          f"'{'X' * 17}...'"),
    ('address = "1 Street"\nweb = "example.org"\n', "", "1: [clinic] is missing address, web"),
    ('"large-print"]', '"poster"]', "15: edition 'poster': expected styles/editions/poster.css"),
    ("grade_fail = 8", "number_size = { posters = 30 }",
     "20: [check] number_size: unknown edition 'posters'; expected one of: standard, large-print"),
    ('["ketamine-aftercare"]', '["ketamine-aftercare", "gone"]',
     "26: packet: expected sheets of content/en/, found 'gone', which is not one; the sheets there are: "
     "ketamine-aftercare"),
    ('["ketamine-aftercare"]', f'["{"x" * 41}"]',
     f"26: packet: expected sheets of content/en/, found '{'x' * 37}...', which is not one; the sheets "
     f"there are: ketamine-aftercare"),
    ('["en", "es"]', f'["{"x" * 21}"]', f"14: languages: expected a language code such as \"en\" or \"es\", "
     f"found '{'x' * 17}...' (two or three lowercase letters, with an optional region such as -MX)"),
    ('["ketamine-aftercare"]', '["../en/ketamine-aftercare"]',
     "26: packet: expected sheets of content/en/, found '../en/ketamine-aftercare', which is not one; the "
     "sheets there are: ketamine-aftercare"),
    ('logo = "assets/logo.svg"', 'logo = "handouts.toml"',
     "6: logo: expected an image file in assets/; 'handouts.toml' is not in the project's assets/, styles/, "
     "content/ folders"),
    ('logo = "assets/logo.svg"', 'logo = "assets/none.png"',
     "6: logo: expected an image file in assets/; 'assets/none.png' does not exist (looked for assets/none.png)"),
    ("[clinic]", "[clinic", "1: TOML syntax error: Expected ']' at the end of a table declaration"),
])
def test_a_broken_value_is_named_at_its_line(toml, old, new, message):
    assert toml(old, new) == message


def test_a_table_given_as_a_value_is_refused(toml):
    text = "server = 3\n" + GOOD.replace('[server]\naccess_code = ""\n', "")
    assert toml(text=text) == "1: expected a [server] table, found a value"


def test_a_size_table_may_name_a_default_edition_the_build_leaves_out(toml):
    loaded = toml(text=GOOD.replace('["standard", "large-print"]', '["standard"]')
                  .replace("grade_fail = 8", "number_size = { large-print = 20 }"))
    assert loaded.editions == ("standard",)
    assert loaded.thresholds.number_size == {"standard": 12, "large-print": 20}


@pytest.mark.parametrize("key, line, limit", [("name", 2, 80), ("phone", 3, 30), ("address", 4, 160),
                                              ("web", 5, 100), ("emergency", 9, 20), ("crisis", 10, 20)])
def test_each_text_may_have_its_limit_and_not_one_character_more(toml, key, line, limit):
    old = re.search(rf"^{key} = .*$", GOOD, re.M)[0]
    value = "1" * limit if key in ("phone", "emergency", "crisis") else "x" * limit
    assert getattr(toml(old, f'{key} = "{value}"').clinic if line < 8 else toml(old, f'{key} = "{value}"').emergency,
                   key) == value
    table = "clinic" if line < 8 else "emergency"
    assert toml(old, f'{key} = "{value}1"') == \
        f"{line}: [{table}] {key}: expected at most {limit} characters, found {limit + 1}"


def test_the_access_code_may_have_200_characters(toml):
    assert toml('access_code = ""', f'access_code = "{"x" * 200}"').server.access_code == "x" * 200
    assert toml('access_code = ""', f'access_code = "{"x" * 201}"') == \
        "23: [server] access_code: expected at most 200 characters, found 201"


@pytest.mark.parametrize("number", ["911", "+1 (480) 555.0142", "112", "1-1-2"])
def test_numbers_as_people_write_them_are_accepted(toml, number):
    assert toml('emergency = "911"', f'emergency = "{number}"').emergency.emergency == number


@pytest.mark.parametrize("number", ["91", "call 911", "911!", "", "1-1"])
def test_a_number_that_is_no_phone_number_is_refused(toml, number):
    assert toml('emergency = "911"', f'emergency = "{number}"') == \
        f"9: [emergency] emergency: expected a phone number that every sheet can print, such as \"911\", found {number!r}"


def test_the_clinic_phone_and_crisis_line_are_checked_too(toml):
    assert toml('phone = "(480) 555-0142"', 'phone = "ask us"') == \
        "3: [clinic] phone: expected a phone number that every sheet can print, such as \"(480) 555-0142\", found 'ask us'"
    assert toml('crisis = "988"', 'crisis = "9"') == \
        "10: [emergency] crisis: expected a phone number that every sheet can print, such as \"988\", found '9'"


@pytest.mark.parametrize("code", ["en", "es", "pt-BR", "es-MX", "haw"])
def test_language_codes_that_name_a_locale_are_accepted(toml, code):
    assert toml('["en", "es"]', f'["en", "{code}"]').languages == ("en", code)


@pytest.mark.parametrize("code", ["en/../x", "en-US/..", "EN", "e", "engl", "en_US", "en-us", "pt-BR-x", "../en"])
def test_a_language_that_is_no_code_is_refused(toml, code):
    assert toml('["en", "es"]', f'["{code}"]') == \
        (f"14: languages: expected a language code such as \"en\" or \"es\", found {code!r} (two or three "
         f"lowercase letters, with an optional region such as -MX)")


def test_a_language_babel_does_not_know_is_refused(toml):
    assert toml('["en", "es"]', '["en", "qq"]') == \
        "14: languages: expected a language code such as \"en\" or \"es\", found 'qq' (no locale of that name is known)"


def test_a_packet_names_every_sheet_there_is_or_none(toml, tmp_path):
    (tmp_path / "content" / "en" / "ketamine-treatment.md").write_text("")
    assert toml('["ketamine-aftercare"]', '["x"]').endswith("there are: ketamine-aftercare, ketamine-treatment")
    for sheet in (tmp_path / "content" / "en").iterdir():
        sheet.unlink()
    assert toml('["ketamine-aftercare"]', '["x"]').endswith("there are: none yet")


def test_the_smallest_positive_limits_are_accepted(toml):
    loaded = toml("print_seconds = 60", "print_seconds = 0.5")
    assert loaded.print_seconds == 0.5
    assert toml("print_megabytes = 400", "print_megabytes = 1").print_megabytes == 1


def test_a_toml_error_at_the_end_of_the_file_has_no_line(toml):
    assert toml(text="[clinic]\nname") == \
        "None: TOML syntax error: Expected '=' after a key in a key/value pair (at end of document)"


def test_sizes_in_points_may_be_fractions_above_0(toml):
    assert toml("grade_fail = 8", "smallest_text = { standard = 1, large-print = 0.5 }").thresholds.smallest_text \
        == {"standard": 1, "large-print": 0.5}


def test_handouts_toml_may_have_1_mib_and_not_one_byte_more(toml):
    padding = "#" * (1024 * 1024 - len(GOOD) - 1) + "\n"
    assert toml(text=GOOD + padding).paper == "letter"
    assert toml(text=GOOD + "#" + padding) == "None: expected a file of at most 1 MiB, found 1 MiB"


def test_no_file_a_folder_or_bad_bytes_are_named(tmp_path):
    with pytest.raises(ConfigError) as raised:
        config.load_config(tmp_path / "handouts.toml")
    assert raised.value.detail == "no handouts.toml here; run in a project folder or pass -C DIR"
    (tmp_path / "handouts.toml").mkdir()
    with pytest.raises(ConfigError, match="handouts.toml: expected a regular file, found a directory"):
        config.load_config(tmp_path / "handouts.toml")
    (tmp_path / "handouts.toml").rmdir()
    (tmp_path / "handouts.toml").write_bytes(b"[clinic]\nname = \"\xff\"\n")
    with pytest.raises(ConfigError, match="handouts.toml: expected UTF-8 text, found byte 0xff"):
        config.load_config(tmp_path / "handouts.toml")


def test_a_config_error_is_a_clean_exit_1_on_the_command_line(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "assets", project / "assets")
    (project / "content" / "en").mkdir(parents=True)
    (project / "handouts.toml").write_text(GOOD.replace("[release]", "[releese]"))
    result = run("-C", project, "list")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "handouts.toml:25: unknown table 'releese'" in result.stderr


def test_the_release_comes_from_pyproject_or_the_installed_package(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nversion = "9.8.7"\n')
    assert config._release(tmp_path) == "9.8.7"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    from importlib.metadata import version
    assert config._release(tmp_path) == version("handouts")


@pytest.mark.parametrize("key, line", [("phone", 3), (r"\[build\]", 12), ("languages", 14), ("absent", None)])
def test_line_of_finds_the_key_and_not_a_longer_one(key, line):
    assert config.line_of(GOOD, key) == line
    assert config.line_of("phone_2 = 1\nphone = 2\n", "phone") == 2
    assert config.line_of("x = 1\n[build]  # defaults\n", r"\[build\]") == 2


def test_a_loaded_project_knows_its_release(tmp_path):
    shutil.copytree(ROOT / "assets", tmp_path / "assets")
    (tmp_path / "handouts.toml").write_text(GOOD.split("[build]")[0])
    (tmp_path / "pyproject.toml").write_text('[project]\nversion = "9.8.7"\n')
    project = config.load_project(tmp_path)
    assert (project.release, project.root, project.content_dir) == ("9.8.7", tmp_path, tmp_path / "content")


def test_an_edition_of_no_size_table_falls_back_to_the_standard_or_nothing():
    assert config.Thresholds().size_for({"standard": 9}, "poster") == 9
    assert config.Thresholds().size_for({"large-print": 14}, "poster") == 0
