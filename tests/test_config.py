"""Config file, GITOVERIT_* variables and flags: values, precedence, sources and errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import RepoFactory
from gitoverit.config import (
    DEFAULT_COLUMN_PRIORITIES,
    KEYS,
    ConfigError,
    Settings,
    SettingSource,
    apply_flags,
    config_path,
    describe,
    env_var,
    env_vars,
    flag_name,
    load_settings,
)
from gitoverit.identity import RewriteRule
from gitoverit.output.sorting import SORT_KEYS

FULL = """\
jobs = 8
net_jobs = 16
timeout = 120
columns = "-url"
sort = "mtime"
roots = ["~/code", "~/work"]
exclude = ["node_modules", "archive/*"]
groups = {work = ["~/work", "~/code/api-*"]}
trust_repo_config = true
column_priorities = "dir=400"
log_file = "~/gito.log"
log_level = "info"
id_rewrite_fg_color = "yellow"
[[id_rewrite]]
type = "glob"
find = "* <*@corp.example>"
replace = "work"
"""


def write_config(text: str, env: dict[str, str] | None = None) -> Path:
    path = config_path(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- where the file is -------------------------------------------------------------------


def test_config_path_honours_xdg_config_home(git_env: Path) -> None:
    assert os.environ["XDG_CONFIG_HOME"] == str(git_env / ".config")
    assert config_path() == git_env / ".config" / "gitoverit" / "config.toml"
    assert config_path({"XDG_CONFIG_HOME": "/x/conf", "HOME": "/h"}) == Path(
        "/x/conf/gitoverit/config.toml"
    )


def test_config_path_falls_back_to_home_when_xdg_unset_or_relative() -> None:
    assert config_path({"HOME": "/h"}) == Path("/h/.config/gitoverit/config.toml")
    assert config_path({"HOME": "/h", "XDG_CONFIG_HOME": ""}) == Path(
        "/h/.config/gitoverit/config.toml"
    )
    assert config_path({"HOME": "/h", "XDG_CONFIG_HOME": "rel/conf"}) == Path(
        "/h/.config/gitoverit/config.toml"
    )


def test_gitoverit_config_overrides_the_path() -> None:
    env = {"HOME": "/h", "XDG_CONFIG_HOME": "/x", "GITOVERIT_CONFIG": "~/my.toml"}
    assert config_path(env) == Path("/h/my.toml")


def test_load_settings_reads_the_file_under_xdg_config_home(git_env: Path) -> None:
    path = write_config("jobs = 3\n")
    assert path.is_relative_to(git_env / ".config")
    settings, sources = load_settings()
    assert settings.jobs == 3
    assert sources["jobs"].source == f"config file {path}:1"


# --- values ------------------------------------------------------------------------------


def test_no_file_gives_every_key_unset_from_default(tmp_path: Path) -> None:
    settings, sources = load_settings(env={}, path=tmp_path / "missing.toml")
    assert settings == Settings()
    assert set(sources) == set(KEYS)
    assert all(s.source == "default" for s in sources.values())
    assert sources["jobs"] == SettingSource("jobs", None, "default")


def test_full_file_is_read_with_line_sources(tmp_path: Path, git_env: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(FULL)
    settings, sources = load_settings(env={"HOME": str(git_env)}, path=path)
    assert settings == Settings(
        jobs=8,
        net_jobs=16,
        timeout=120.0,
        columns="-url",
        sort="mtime",
        roots=(str(git_env / "code"), str(git_env / "work")),
        exclude=("node_modules", "archive/*"),
        groups=(("work", ("~/work", "~/code/api-*")),),
        trust_repo_config=True,
        column_priorities=tuple({**dict(DEFAULT_COLUMN_PRIORITIES), "dir": 400}.items()),
        log_file=str(git_env / "gito.log"),
        log_level="INFO",
        id_rewrite_fg_color="yellow",
        id_rewrite=(RewriteRule("glob", "* <*@corp.example>", "work"),),
    )
    assert isinstance(settings.timeout, float)
    for line, key in enumerate(KEYS, start=1):
        assert sources[key].source == f"config file {path}:{line}"
        assert sources[key].value == getattr(settings, key)


def test_relative_root_stays_relative(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('roots = ["src", "/abs"]\n')
    settings, _ = load_settings(env={}, path=path)
    assert settings.roots == ("src", "/abs")


def test_environment_values_are_parsed(tmp_path: Path) -> None:
    env = {
        "HOME": "/h",
        "GITOVERIT_JOBS": " 4 ",
        "GITOVERIT_NET_JOBS": "64",
        "GITOVERIT_TIMEOUT": "2.5",
        "GITOVERIT_COLUMNS": "-,path,status",
        "GITOVERIT_SORT": "ahead",
        "GITOVERIT_ROOTS": os.pathsep.join(["~/code", "/srv/my repos", ""]),
        "GITOVERIT_EXCLUDE": "node_modules, archive/* ,,build",
        "GITOVERIT_TRUST_REPO_CONFIG": " Off ",
        "GITO_COLUMN_PRIORITIES": "1,2,3,4,5,6",
        "GITO_DEBUG_LOG": "~/debug.log",
        "GITO_LOG_LEVEL": "error",
        "GITOVERIT_ID_REWRITE_FG_COLOR": "red",
    }
    settings, sources = load_settings(env=env, path=tmp_path / "none.toml")
    assert settings == Settings(
        jobs=4,
        net_jobs=64,
        timeout=2.5,
        columns="-,path,status",
        sort="ahead",
        roots=("/h/code", "/srv/my repos"),
        exclude=("node_modules", "archive/*", "build"),
        trust_repo_config=False,
        column_priorities=(
            ("dir", 1),
            ("status", 2),
            ("branch", 3),
            ("branch_remote", 500),
            ("remote", 4),
            ("url", 5),
            ("mtime", 6),
            ("ident", 1),
        ),
        log_file="/h/debug.log",
        log_level="ERROR",
        id_rewrite_fg_color="red",
    )
    assert {k: s.source for k, s in sources.items()} == {
        k: f"env {env_vars(k)[0]}" if env_vars(k) else "default" for k in KEYS
    }


def test_blank_environment_variable_counts_as_unset(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("jobs = 5\n")
    settings, sources = load_settings(env={"GITOVERIT_JOBS": "  "}, path=path)
    assert settings.jobs == 5
    assert sources["jobs"].source == f"config file {path}:1"


# --- precedence --------------------------------------------------------------------------


def test_precedence_file_then_env_then_flags(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('jobs = 2\nnet_jobs = 3\ntimeout = 4\nsort = "name"\n')
    env = {"GITOVERIT_NET_JOBS": "30", "GITOVERIT_TIMEOUT": "40"}
    settings, sources = load_settings(env=env, path=path)
    settings, sources = apply_flags(
        settings, sources, timeout=400, jobs=None, roots=(), exclude=["vendor"]
    )
    assert settings.jobs == 2
    assert settings.net_jobs == 30
    assert settings.timeout == 400.0
    assert settings.sort == "name"
    assert settings.exclude == ("vendor",)
    assert settings.roots == ()
    assert sources["jobs"].source == f"config file {path}:1"
    assert sources["net_jobs"].source == "env GITOVERIT_NET_JOBS"
    assert sources["timeout"].source == "flag --timeout"
    assert sources["sort"].source == f"config file {path}:4"
    assert sources["exclude"] == SettingSource("exclude", ("vendor",), "flag --exclude")
    assert sources["roots"].source == "default"
    assert sources["columns"].source == "default"


_LAYER_VALUES = {"file": 2, "env": 3, "flag": 4}


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    layers=st.dictionaries(
        st.sampled_from(["jobs", "net_jobs"]), st.sets(st.sampled_from(["file", "env", "flag"]))
    )
)
def test_highest_layer_that_sets_a_key_wins(tmp_path: Path, layers: dict[str, set[str]]) -> None:
    # tmp_path is shared across examples; each example rewrites the one file it uses.
    path = tmp_path / "c.toml"
    path.write_text(
        "".join(f"{k} = {_LAYER_VALUES['file']}\n" for k, ls in layers.items() if "file" in ls)
    )
    env = {env_var(k): str(_LAYER_VALUES["env"]) for k, ls in layers.items() if "env" in ls}
    flags = {k: _LAYER_VALUES["flag"] for k, ls in layers.items() if "flag" in ls}
    loaded, loaded_sources = load_settings(env=env, path=path)
    settings_, sources = apply_flags(loaded, loaded_sources, **flags)
    for key in ("jobs", "net_jobs"):
        chosen = [layer for layer in ("flag", "env", "file") if layer in layers.get(key, set())]
        if not chosen:
            assert getattr(settings_, key) is None
            assert sources[key].source == "default"
            continue
        top = chosen[0]
        assert getattr(settings_, key) == _LAYER_VALUES[top]
        expected = {
            "flag": f"flag {flag_name(key)}",
            "env": f"env {env_var(key)}",
            "file": "config file ",
        }[top]
        assert sources[key].source.startswith(expected)


def test_apply_flags_checks_values_and_names() -> None:
    settings, sources = Settings(), {k: SettingSource(k, None, "default") for k in KEYS}
    with pytest.raises(ConfigError, match=r"^--net-jobs: must be a positive integer"):
        apply_flags(settings, sources, net_jobs=0)
    with pytest.raises(ConfigError, match=r"^--sort: must be one of"):
        apply_flags(settings, sources, sort="size")
    with pytest.raises(TypeError) as info:
        apply_flags(settings, sources, nonsense=1, bogus=2)
    assert str(info.value) == "apply_flags() got unknown settings: bogus, nonsense"
    # One pattern may come as a plain string; an int timeout becomes seconds as a float
    # (the check of the config file does that).
    got, got_sources = apply_flags(settings, sources, exclude="vendor/", timeout=5)
    assert (got.exclude, got.timeout) == (("vendor/",), 5.0)
    assert type(got.timeout) is float
    assert got_sources["exclude"] == SettingSource("exclude", ("vendor/",), "flag --exclude")
    same, same_sources = apply_flags(settings, sources, jobs=None, exclude=())
    assert same == settings
    assert same_sources == sources


# --- errors ------------------------------------------------------------------------------


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('jobs = 4\nsort = "name"\ncolumns = -url\n')
    with pytest.raises(ConfigError) as info:
        load_settings(env={}, path=path)
    assert str(info.value).startswith(f"{path}:3: invalid TOML")
    assert "column" in str(info.value)


def test_unterminated_toml_points_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('jobs = 4\nroots = ["~/code",\n')
    with pytest.raises(ConfigError, match=rf"^{path}:\d+: invalid TOML"):
        load_settings(env={}, path=path)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('# c\n\njobs = "x"\n', 3, "jobs: must be a positive integer no larger than 1024, got 'x'"),
        ("jobs = 0\n", 1, "jobs: must be a positive integer"),
        ("net_jobs = 1025\n", 1, "net_jobs: must be a positive integer"),
        ("jobs = true\n", 1, "got True"),
        ("jobs = 2.5\n", 1, "got 2.5"),
        ("timeout = -1\n", 1, "timeout: must be a positive number of seconds"),
        ("timeout = nan\n", 1, "timeout: must be a positive number of seconds"),
        ("timeout = inf\n", 1, "timeout: must be a positive number of seconds"),
        ('timeout = "5"\n', 1, "timeout: must be a positive number"),
        ('jobs = 1\nsort = "mtim"\n', 2, "did you mean 'mtime'?"),
        ("columns = 3\n", 1, "columns: must be a string, got 3"),
        ('columns = "-,bogus"\n', 1, "columns: unknown column 'bogus'; valid columns: dir,"),
        ('roots = "~/code"\n', 1, "roots: must be a list of non-empty strings"),
        ('exclude = ["a", 3]\n', 1, "exclude: must be a list of non-empty strings"),
        ('exclude = [""]\n', 1, "exclude: must be a list of non-empty strings"),
    ],
)
def test_bad_value_names_file_line_and_expectation(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(env={}, path=path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert message in str(info.value)


def test_unknown_key_is_an_error_listing_valid_keys(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("jobs = 2\n  net-jobs = 8\n")
    with pytest.raises(ConfigError) as info:
        load_settings(env={}, path=path)
    text = str(info.value)
    assert text.startswith(f"{path}:2: unknown key 'net-jobs'")
    assert "did you mean 'net_jobs'?" in text
    assert "valid keys: " + ", ".join(KEYS) in text


def test_unknown_table_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("jobs = 2\n\n[sync]\nnet_jobs = 3\n")
    with pytest.raises(ConfigError, match=rf"^{path}:3: unknown table 'sync'"):
        load_settings(env={}, path=path)


def test_key_inside_a_table_is_not_mistaken_for_a_top_level_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[other]\njobs = 1\n\n["jobs2"]\n')
    with pytest.raises(ConfigError, match=rf"^{path}:1: unknown table 'other'"):
        load_settings(env={}, path=path)


def test_bad_environment_variable_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^GITOVERIT_JOBS: must be a positive integer"):
        load_settings(env={"GITOVERIT_JOBS": "many"}, path=tmp_path / "none.toml")
    with pytest.raises(ConfigError, match=r"^GITOVERIT_TIMEOUT: must be"):
        load_settings(env={"GITOVERIT_TIMEOUT": "0"}, path=tmp_path / "none.toml")
    with pytest.raises(ConfigError, match=r"^GITOVERIT_SORT: must be one of"):
        load_settings(env={"GITOVERIT_SORT": "size"}, path=tmp_path / "none.toml")


def test_missing_file_named_by_gitoverit_config_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(env={"GITOVERIT_CONFIG": str(missing)})
    named = tmp_path / "yes.toml"
    named.write_text("jobs = 7\n")
    settings, sources = load_settings(env={"GITOVERIT_CONFIG": str(named)})
    assert settings.jobs == 7
    assert sources["jobs"].source == f"config file {named}:1"


def test_folder_or_undecodable_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        load_settings(env={}, path=tmp_path)
    path = tmp_path / "bin.toml"
    path.write_bytes(b"jobs = 1\n\xff\xfe\n")
    with pytest.raises(ConfigError, match=rf"^{path}: not valid UTF-8"):
        load_settings(env={}, path=path)


def test_sort_keys_match_the_output_layer() -> None:
    for key in SORT_KEYS:
        settings, _ = apply_flags(Settings(), {}, sort=key)
        assert settings.sort == key


# --- describe ----------------------------------------------------------------------------


def test_describe_lists_every_key_value_and_source(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('jobs = 8\ncolumns = "-url"\n')
    settings, sources = load_settings(env={"GITOVERIT_TIMEOUT": "30"}, path=path)
    settings, sources = apply_flags(settings, sources, net_jobs=32)
    text = describe(settings, sources, path=path)
    lines = text.splitlines()
    assert lines[0] == f"config file: {path} (exists)"
    by_key = {line.split()[0]: line for line in lines[1:]}
    assert set(by_key) == set(KEYS)
    assert by_key["jobs"].split("#")[1].strip() == f"config file {path}:1"
    assert '"-url"' in by_key["columns"]
    assert by_key["timeout"].endswith("# env GITOVERIT_TIMEOUT")
    assert "30.0" in by_key["timeout"]
    assert by_key["net_jobs"].endswith("# flag --net-jobs")
    assert "(none)" in by_key["sort"], "no default was given"
    assert by_key["sort"].endswith("# default")
    with_defaults = describe(settings, sources, path=path, defaults=Settings(sort="mtime"))
    assert any(
        line.startswith("sort ") and '= "mtime"' in line for line in with_defaults.splitlines()
    )


def test_describe_reports_a_missing_file_and_escapes_control_characters(git_env: Path) -> None:
    settings, sources = apply_flags(Settings(), {}, exclude=["a\x1b[31mb"])
    text = describe(settings, sources)
    assert text.startswith(f"config file: {config_path()} (not found)\n")
    assert "\x1b" not in text
    assert "\\x1b[31m" in text


@pytest.mark.parametrize("raw", ['"maybe"', "1"])
def test_trust_repo_config_must_be_a_boolean(tmp_path: Path, raw: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"trust_repo_config = {raw}\n")
    with pytest.raises(ConfigError, match=r"c\.toml:1: trust_repo_config: must be true or false"):
        load_settings(env={}, path=path)


def test_exclude_flags_replace_the_config_files_list_in_a_scan(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitoverit.cli import main

    for name in ("a-kept", "b-by-file", "c-by-flag"):
        repos.repo(name)
    write_config('exclude = ["b-*"]\n')
    args = ("-o", "json", "--no-progress", "-s", "name")

    def names(*extra: str) -> list[str]:
        code = main([*args, *extra, str(repos.root)])
        out, err = capsys.readouterr()
        assert code == 0, err
        return [Path(r["path"]).name for r in json.loads(out)]

    assert names() == ["a-kept", "c-by-flag"]
    # Each layer replaces the one below: the flag's list is the whole list.
    assert names("--exclude", "c-*") == ["a-kept", "b-by-file"]


def test_apply_flags_takes_no_bool_for_a_number_of_seconds() -> None:
    settings, sources = Settings(), {k: SettingSource(k, None, "default") for k in KEYS}
    with pytest.raises(ConfigError, match=r"^--timeout: must be a positive number of seconds"):
        apply_flags(settings, sources, timeout=True)


def test_apply_flags_expands_a_leading_tilde_in_roots_and_the_log_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    settings, sources = Settings(), {k: SettingSource(k, None, "default") for k in KEYS}
    got, got_sources = apply_flags(settings, sources, roots=["~/code", "/abs"], log_file="~/g.log")
    assert got.roots == (f"{tmp_path}/code", "/abs")
    assert got.log_file == f"{tmp_path}/g.log"
    assert got_sources["roots"].value == got.roots


def test_load_settings_names_each_key_and_where_its_value_came_from(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('sort = "name"\n')
    settings, sources = load_settings(env={"GITOVERIT_JOBS": "3"}, path=path)
    assert (settings.jobs, settings.sort) == (3, "name")
    assert sources["jobs"] == SettingSource("jobs", 3, "env GITOVERIT_JOBS")
    assert sources["sort"].key == "sort" and sources["sort"].value == "name"
    assert sources["sort"].source.startswith(f"config file {path}")
    assert sources["net_jobs"] == SettingSource("net_jobs", None, "default")
    assert all(source.key == key for key, source in sources.items())
