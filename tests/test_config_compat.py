"""The earlier gitoverit's configuration: its file, its keys, its variables, and
``gitoverit config`` showing every effective value."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

from conftest import RepoFactory
from gitoverit.cli import main
from gitoverit.commands._output import OutputOptions, resolve
from gitoverit.commands.config import builtin_defaults
from gitoverit.config import (
    DEFAULT_COLUMN_PRIORITIES,
    KEYS,
    ConfigError,
    Settings,
    config_file,
    config_path,
    describe,
    earlier_config_path,
    load_settings,
)
from gitoverit.identity import RewriteRule, rewrite

#: The earlier gitoverit's file, with every key it knew.
EARLIER = """\
log_file = "~/gito-debug.log"
log_level = "warn"
column_priorities = "600,500,400,300,200,100"
id_rewrite_fg_color = "bright_black"

[[id_rewrite]]
type = "literal_full"
find = "Jane Doe <jane@corp.example>"
replace = "work"
fg = "cyan"

[[id_rewrite]]
type = "regex"
find = '^(\\w+) .* <.*@home\\.example>$'
replace = '\\1 (home)'
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def priorities(**changes: int) -> tuple[tuple[str, int], ...]:
    return tuple({**dict(DEFAULT_COLUMN_PRIORITIES), **changes}.items())


# --- the earlier file ---------------------------------------------------------------------


def test_the_earlier_file_is_read_when_this_projects_is_absent(git_env: Path) -> None:
    path = write(earlier_config_path(), EARLIER)
    assert path == git_env / ".config" / "gito" / "config.toml"
    assert config_file() == path
    settings, sources = load_settings()
    assert settings.log_file == str(git_env / "gito-debug.log")
    assert settings.log_level == "WARNING"
    assert settings.column_priorities == priorities(
        dir=600, status=500, branch=400, remote=300, url=200, mtime=100
    )
    assert settings.id_rewrite_fg_color == "bright_black"
    assert settings.id_rewrite == (
        RewriteRule("literal_full", "Jane Doe <jane@corp.example>", "work", "cyan"),
        RewriteRule("regex", r"^(\w+) .* <.*@home\.example>$", r"\1 (home)"),
    )
    assert sources["log_level"].source == f"config file {path}:2"
    assert sources["id_rewrite"].source == f"config file {path}:6"
    jane = rewrite("Jane Doe <jane@corp.example>", settings.id_rewrite, default_fg="x")
    assert jane == ("work", "cyan")
    home = rewrite("Joe Bloggs <joe@home.example>", settings.id_rewrite, default_fg="x")
    assert home == ("Joe (home)", "x")


def test_this_projects_file_takes_the_place_of_the_earlier_one(git_env: Path) -> None:
    write(earlier_config_path(), "log_level = 'not a level'\n")
    own = write(config_path(), "jobs = 3\n")
    assert config_file() == own
    settings, _ = load_settings()
    assert settings.jobs == 3
    assert settings.log_level == "DEBUG"


def test_a_named_config_file_is_read_even_when_missing_and_the_earlier_one_exists(
    tmp_path: Path,
) -> None:
    write(earlier_config_path(), "log_level = 'info'\n")
    env = {**os.environ, "GITOVERIT_CONFIG": str(tmp_path / "nope.toml")}
    assert config_file(env) == tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(env=env)


def test_every_key_works_in_either_file(git_env: Path) -> None:
    text = 'jobs = 2\nlog_level = "error"\ncolumn_priorities = "url=7"\n'
    write(earlier_config_path(), text)
    from_earlier, _ = load_settings()
    write(config_path(), text)
    from_own, sources = load_settings()
    assert from_earlier == from_own
    assert from_own.jobs == 2 and from_own.log_level == "ERROR"
    assert from_own.column_priorities == priorities(url=7)
    assert sources["jobs"].source == f"config file {config_path()}:1"


def test_a_bad_value_in_the_earlier_file_exits_2_before_any_work(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    repos.repo("r")
    path = write(earlier_config_path(), EARLIER.replace('type = "regex"', 'type = "regexp"'))
    code, out, err = run_cli(capsys, "--no-progress", str(repos.root))
    assert code == 2 and out == ""
    assert f"{path}:13: id_rewrite[1]: type: must be one of literal_full," in err
    code, _, err = run_cli(capsys, "config")
    assert code == 2 and f"{path}:13:" in err


# --- values and their checks --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('"debug"', "DEBUG"),
        ('"Info"', "INFO"),
        ('"WARN"', "WARNING"),
        ('"warning"', "WARNING"),
        ('" error "', "ERROR"),
        ('"critical"', "CRITICAL"),
        ('""', "DEBUG"),
    ],
)
def test_log_level_names(tmp_path: Path, raw: str, expected: str) -> None:
    settings, _ = load_settings(env={}, path=write(tmp_path / "c.toml", f"log_level = {raw}\n"))
    assert settings.log_level == expected


def test_an_empty_log_file_means_no_log(tmp_path: Path) -> None:
    settings, sources = load_settings(env={}, path=write(tmp_path / "c.toml", 'log_file = ""\n'))
    assert settings.log_file is None
    assert sources["log_file"].source.startswith("config file ")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # the earlier form: six numbers, for dir, status, branch, remote, url, mtime
        ('"1, 2,3 ,4,5,6"', priorities(dir=1, status=2, branch=3, remote=4, url=5, mtime=6)),
        ('"mtime=900, ident=0"', priorities(mtime=900, ident=0)),
        ('"repo=3"', priorities(dir=3)),  # repo is another name of dir
        ("{ url = 2, status = 9 }", priorities(url=2, status=9)),
        ('""', DEFAULT_COLUMN_PRIORITIES),
    ],
)
def test_column_priorities_forms(
    tmp_path: Path, value: str, expected: tuple[tuple[str, int], ...]
) -> None:
    path = write(tmp_path / "c.toml", f"column_priorities = {value}\n")
    settings, _ = load_settings(env={}, path=path)
    assert settings.column_priorities == expected


RULE = '[[id_rewrite]]\ntype = "glob"\nfind = "*"\nreplace = "x"\n'


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('log_level = "verbose"\n', 1, "log_level: must be one of DEBUG, INFO, WARNING, WARN,"),
        ('log_level = "debg"\n', 1, "(did you mean 'DEBUG'?)"),
        ("log_level = 10\n", 1, "log_level: must be a string, got 10"),
        ("log_file = true\n", 1, "log_file: must be a string"),
        ('column_priorities = "1,2,3"\n', 1, "column_priorities: must be 6 numbers, for dir,"),
        ('column_priorities = "1,2,3,4,5,x"\n', 1, "column_priorities: mtime: must be a whole"),
        ('column_priorities = "dir=-1"\n', 1, "dir: must be a whole number, 0 or more, got -1"),
        ('column_priorities = "dri=1"\n', 1, "unknown column 'dri' (did you mean 'dir'?)"),
        ("column_priorities = [1, 2]\n", 1, "column_priorities: must be a string such as"),
        ('id_rewrite_fg_color = "blurple"\n', 1, "id_rewrite_fg_color: not a colour:"),
        ('id_rewrite = "x"\n', 1, "id_rewrite: must be a list of rules"),
        ('id_rewrite = ["x"]\n', 1, "id_rewrite[0]: must be a table with type, find and"),
        (RULE + RULE.replace('"glob"', '"regex"').replace('"*"', '"("'), 7, "id_rewrite[1]: find:"),
        (RULE + RULE.replace("find", "fnd"), 7, "id_rewrite[1]: unknown key 'fnd' (did you mean"),
        (RULE + RULE.replace('find = "*"\n', ""), 5, "id_rewrite[1]: missing find"),
        (RULE + '[[id_rewrite]]\ntype = "glob"\nfind = 3\n', 7, "id_rewrite[1]: find: must be a"),
        (RULE + RULE.replace('"x"\n', '"x"\nfg = "no such"\n'), 9, "id_rewrite[1]: fg: not a"),
        (
            '[[id_rewrite]]\ntype = "regex"\nfind = "(a)"\nreplace = "\\\\2"\n',
            4,
            "id_rewrite[0]: replace: invalid group reference 2",
        ),
    ],
)
def test_a_bad_value_names_the_file_line_and_key(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path / "config.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(env={}, path=path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert message in str(info.value)


# --- environment variables ----------------------------------------------------------------


def test_earlier_variables_set_the_log_and_priorities(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'log_file = "/f.log"\nlog_level = "error"\n')
    env = {
        "HOME": "/h",
        "GITO_DEBUG_LOG": "~/a.log",
        "GITOVERIT_DEBUG_LOG": "/b.log",
        "GITO_LOG_LEVEL": "info",
        "GITOVERIT_COLUMN_PRIORITIES": "dir=1",
    }
    settings, sources = load_settings(env=env, path=path)
    assert settings.log_file == "/h/a.log", "GITO_DEBUG_LOG wins, as before"
    assert sources["log_file"].source == "env GITO_DEBUG_LOG"
    assert settings.log_level == "INFO"
    assert sources["log_level"].source == "env GITO_LOG_LEVEL"
    assert settings.column_priorities == priorities(dir=1)
    assert sources["column_priorities"].source == "env GITOVERIT_COLUMN_PRIORITIES"

    env = {
        "GITOVERIT_DEBUG_LOG": "/b.log",
        "GITO_DEBUG_LOG": " ",
        "GITO_COLUMN_PRIORITIES": "6,5,4,3,2,1",
    }
    env["GITOVERIT_COLUMN_PRIORITIES"] = "dir=1"
    settings, sources = load_settings(env=env, path=path)
    assert settings.log_file == "/b.log", "a blank variable counts as unset"
    assert sources["log_file"].source == "env GITOVERIT_DEBUG_LOG"
    assert dict(settings.column_priorities)["dir"] == 6, "GITO_COLUMN_PRIORITIES wins"
    assert settings.log_level == "ERROR", "the file's value stays"


def test_a_bad_variable_is_named(tmp_path: Path) -> None:
    none = tmp_path / "none.toml"
    with pytest.raises(ConfigError, match=r"^GITO_LOG_LEVEL: must be one of"):
        load_settings(env={"GITO_LOG_LEVEL": "loud"}, path=none)
    with pytest.raises(ConfigError, match=r"^GITO_COLUMN_PRIORITIES: must be 6 numbers"):
        load_settings(env={"GITO_COLUMN_PRIORITIES": "1,2"}, path=none)


def test_the_output_plan_carries_the_column_priorities(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITO_COLUMN_PRIORITIES", "mtime=50")
    _, plan = resolve(OutputOptions())
    assert plan.column_priorities == priorities(mtime=50)
    monkeypatch.delenv("GITO_COLUMN_PRIORITIES")
    _, plan = resolve(OutputOptions())
    assert plan.column_priorities == DEFAULT_COLUMN_PRIORITIES


# --- gitoverit config ---------------------------------------------------------------------


def config_lines(out: str) -> dict[str, tuple[str, str]]:
    """``gitoverit config``'s lines after the first: key -> (value, source)."""
    shown = {}
    for line in out.splitlines()[1:]:
        key, _, rest = line.partition(" = ")
        value, _, source = rest.rpartition("  # ")
        shown[key.strip()] = (value.strip(), source)
    return shown


def test_config_shows_every_effective_value_with_nothing_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(capsys, "config")
    assert code == 0 and err == ""
    assert out.endswith("\n") and not out.endswith("\n\n")
    assert "(not set)" not in out
    shown = config_lines(out)
    assert set(shown) == set(KEYS)
    defaults = builtin_defaults()
    assert shown["jobs"] == (str(defaults.jobs), "default")
    assert shown["net_jobs"] == ("16", "default")
    assert shown["timeout"] == ("120.0", "default")
    assert shown["columns"] == (f'"{defaults.columns}"', "default")
    assert shown["sort"] == ('"mtime"', "default")
    assert shown["trust_repo_config"] == ("false", "default")
    assert shown["roots"] == ("[]", "default (the folders given, else the current folder)")
    assert shown["log_file"] == ("(none)", "default (no debug log)")
    assert shown["log_level"] == ('"DEBUG"', "default")
    assert shown["column_priorities"][0].startswith('"dir=500,status=500,branch=500,')
    assert shown["id_rewrite"] == ("[]", "default")


def test_config_names_the_earlier_file_it_read(
    capsys: pytest.CaptureFixture[str], git_env: Path
) -> None:
    path = write(earlier_config_path(), EARLIER)
    _, out, _ = run_cli(capsys, "config")
    first = out.splitlines()[0]
    assert first.startswith(f"config file: {path} (exists; the earlier gitoverit's file")
    assert str(config_path()) in first
    shown = config_lines(out)
    assert shown["log_level"] == ('"WARNING"', f"config file {path}:2")
    assert shown["id_rewrite"][0].startswith(
        '[{type = "literal_full", find = "Jane Doe <jane@corp.example>", replace = "work", '
        'fg = "cyan"}, {type = "regex"'
    )
    write(config_path(), "jobs = 1\n")
    _, out, _ = run_cli(capsys, "config")
    assert out.splitlines()[1].startswith(f"not read: {path} (the earlier gitoverit's file")


def test_the_values_config_shows_read_back_as_the_same_settings(
    tmp_path: Path, git_env: Path
) -> None:
    path = write(earlier_config_path(), EARLIER + '\n[[id_rewrite]]\ntype="glob"\nfind="a\\"b"\n')
    settings, sources = load_settings()
    text = describe(settings, sources, defaults=builtin_defaults())
    toml = "".join(
        f"{key} = {value}\n"
        for key, (value, _) in config_lines(text).items()
        if value != "(none)" and key != "id_rewrite"
    )
    toml += "id_rewrite = " + config_lines(text)["id_rewrite"][0] + "\n"
    again, _ = load_settings(env={"HOME": str(git_env)}, path=write(tmp_path / "c.toml", toml))
    for key in KEYS:
        if getattr(settings, key) is not None:
            assert getattr(again, key) == getattr(settings, key), key
    assert path.exists()


def test_settings_defaults_are_the_earlier_ones() -> None:
    assert Settings().column_priorities == DEFAULT_COLUMN_PRIORITIES
    assert dict(DEFAULT_COLUMN_PRIORITIES) == {
        "dir": 500,
        "status": 500,
        "branch": 500,
        "branch_remote": 500,
        "remote": 300,
        "url": 300,
        "mtime": 1,
        "ident": 1,
    }
    assert Settings().log_level == "DEBUG" and Settings().log_file is None
    assert tomllib.loads(EARLIER)  # the sample above is valid TOML
    assert re.fullmatch(r"\w+", Settings().log_level)


# --- the README ---------------------------------------------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"

EARLIER_NAMES = (
    "log_file",
    "log_level",
    "column_priorities",
    "id_rewrite",
    "id_rewrite_fg_color",
    "GITO_DEBUG_LOG",
    "GITOVERIT_DEBUG_LOG",
    "GITO_LOG_LEVEL",
    "GITO_COLUMN_PRIORITIES",
    "GITOVERIT_COLUMN_PRIORITIES",
)


def section(text: str, heading: str) -> str:
    start = text.index(heading + "\n")
    level = heading.split(" ")[0]
    ends = [m.start() for m in re.finditer(rf"^#{{1,{len(level)}}} ", text, re.M)]
    return text[start : min([e for e in ends if e > start] or [len(text)])]


def test_the_readme_documents_every_key_and_the_earlier_configuration() -> None:
    text = README.read_text(encoding="utf-8")
    config = section(text, "### Configuration")
    for key in KEYS:
        assert any(f"\n{form}" in config for form in (f"{key} = ", f"[[{key}]]", f"[{key}]")), key
    coming = section(text, "## Coming from gitoverit 0.x")
    assert text.index("## Coming from gitoverit 0.x") < text.index("## Development")
    table = section(coming, "### Configuration")
    for name in EARLIER_NAMES:
        assert f"| `{name}`" in table or f", `{name}`" in table, name


def test_the_readme_sample_config_is_valid(tmp_path: Path) -> None:
    config = section(README.read_text(encoding="utf-8"), "### Configuration")
    sample = config.split("```toml\n", 1)[1].split("```", 1)[0]
    settings, _ = load_settings(env={"HOME": "/h"}, path=write(tmp_path / "c.toml", sample))
    assert settings.log_file == "/h/gito-debug.log"
    assert len(settings.id_rewrite) == 2
    assert rewrite("Joe Bloggs <joe@home.example>", settings.id_rewrite) == ("Joe (home)", None)
