"""Named groups of repositories: the ``[groups]`` config key, ``@NAME`` wherever a folder
is accepted (a scan, ``roots``, sync patterns, freeze, gitob), and ``gitoverit group``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from conftest import RepoFactory
from gitoverit.cli import branches_main, main
from gitoverit.config import load_settings
from gitoverit.select import Selection, find, pick_entries, roots_of


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def config_file() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "gitoverit" / "config.toml"


def write_config(text: str) -> Path:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def names(out: str) -> list[str]:
    return sorted(os.path.basename(rec["path"]) for rec in json.loads(out))


@pytest.fixture
def tree(repos: RepoFactory) -> Path:
    """``work/{a,b}``, ``code/{api-one,api-two,web}`` and ``other/c``, all real repos."""
    for name in ("work/a", "work/b", "code/api-one", "code/api-two", "code/web", "other/c"):
        repos.repo(name)
    (repos.root / "code/api-notes").mkdir()  # a folder the glob matches, with no repo
    return repos.root


def group_config(root: Path, *extra: str) -> Path:
    return write_config(
        "# my settings\n"
        "jobs = 2  # keep it light\n"
        "\n"
        "[groups]  # named sets of folders\n"
        f'work = ["{root}/work", "{root}/code/api-*"]  # the day job\n'
        f'other = ["{root}/other"]\n' + "".join(extra)
    )


# --- the config key ----------------------------------------------------------------------


def test_groups_are_read_in_order_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('jobs = 1\n[groups]\nwork = ["~/work", "~/code/api-*"]\n"x.y" = []\n')
    settings, sources = load_settings(env={"HOME": "/h"}, path=path)
    assert settings.groups == (("work", ("~/work", "~/code/api-*")), ("x.y", ()))
    assert sources["groups"].source == f"config file {path}:2"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('groups = ["~/work"]\n', 1, "groups: must be a table of groups"),
        ('jobs = 1\n[groups]\nok = ["/a"]\nwork = "~/work"\n', 4, "groups: work: must be a list"),
        ("[groups]\nwork = [1]\n", 2, "groups: work: must be a list of folders or globs"),
        ('[groups]\nwork = [""]\n', 2, "groups: work: must be a list"),
        ('[groups]\n"-x" = ["/a"]\n', 2, "groups: '-x': a group name is letters"),
        ('[groups]\na = ["/a"]\nb = ["@a"]\n', 3, "groups: b: a group lists folders or globs, not"),
        ('[groups]\n"a b" = ["/a"]\n', 2, "groups: 'a b': a group name"),
    ],
)
def test_a_bad_group_names_the_file_line_and_key(
    capsys: pytest.CaptureFixture[str], text: str, line: int, message: str
) -> None:
    path = write_config(text)
    code, out, err = run_cli(capsys, "config")
    assert code == 2 and out == ""
    assert f"{path}:{line}: {message}" in err


def test_gitoverit_config_shows_the_groups(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "config")
    assert code == 0
    assert "groups              = {}" in out and "# default (no groups)" in out
    path = write_config('[groups]\nwork = ["~/work", "~/code/api-*"]\n"team.infra" = ["/srv"]\n')
    code, out, _ = run_cli(capsys, "config")
    line = next(x for x in out.splitlines() if x.startswith("groups "))
    assert '{work = ["~/work", "~/code/api-*"], "team.infra" = ["/srv"]}' in line
    assert line.endswith(f"# config file {path}:1")


# --- @NAME in a scan ---------------------------------------------------------------------


def test_a_scan_of_a_group_takes_its_folders_and_the_repos_its_globs_match(
    capsys: pytest.CaptureFixture[str], tree: Path
) -> None:
    group_config(tree)
    code, out, _ = run_cli(capsys, "@work", "-o", "json", "--no-progress")
    assert code == 0
    assert names(out) == ["a", "api-one", "api-two", "b"]
    # A group and a folder together; a repo named twice is reported once.
    code, out, _ = run_cli(capsys, "@work", "@other", str(tree / "work"), "-o", "json")
    assert names(out) == ["a", "api-one", "api-two", "b", "c"]


def test_tilde_in_a_group_is_the_home_folder(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, git_env: Path
) -> None:
    RepoFactory(git_env / "src").repo("tool")
    RepoFactory(git_env / "src").repo("lib-x")
    write_config('[groups]\nhome = ["~/src/lib-*", "~/src/tool"]\n')
    code, out, _ = run_cli(capsys, "@home", "-o", "json")
    assert code == 0 and names(out) == ["lib-x", "tool"]


def test_an_unknown_group_is_a_usage_error_listing_the_known_ones(
    capsys: pytest.CaptureFixture[str], tree: Path
) -> None:
    code, out, err = run_cli(capsys, "@nope", "-o", "json")
    assert code == 2 and out == ""
    assert "unknown group '@nope'" in err and "gitoverit group add" in err
    group_config(tree)
    code, out, err = run_cli(capsys, "@wrok", "-o", "json")
    assert code == 2 and out == ""
    assert "unknown group '@wrok'; known groups: @work, @other" in err


def test_a_missing_folder_in_a_group_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tree: Path
) -> None:
    write_config(f'[groups]\nwork = ["{tree}/work", "{tree}/gone"]\n')
    code, out, err = run_cli(capsys, "@work")
    assert code == 2 and out == ""
    assert f"@work: not a folder: {tree}/gone" in err


def test_roots_can_name_groups(
    capsys: pytest.CaptureFixture[str], tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group_config(tree)
    write_config(f'roots = ["@other", "{tree}/work"]\n' + config_file().read_text())
    monkeypatch.chdir(tree / "code")
    code, out, _ = run_cli(capsys, "-o", "json")
    assert code == 0 and names(out) == ["a", "b", "c"]
    monkeypatch.setenv("GITOVERIT_ROOTS", "@work")
    code, out, _ = run_cli(capsys, "-o", "json")
    assert code == 0 and names(out) == ["a", "api-one", "api-two", "b"]
    monkeypatch.setenv("GITOVERIT_ROOTS", "@bogus")
    code, out, err = run_cli(capsys, "-o", "json")
    assert code == 2 and out == "" and "unknown group '@bogus'" in err


def test_roots_of_resolves_groups_for_every_command(tree: Path) -> None:
    groups = {"work": [f"{tree}/work", f"{tree}/code/api-*"], "all": [f"{tree}/**/api-*"]}
    assert roots_of(["@work"], groups) == (
        f"{tree}/work",
        f"{tree}/code/api-notes",
        f"{tree}/code/api-one",
        f"{tree}/code/api-two",
    )
    # A folder already named is kept once, where it came first.
    assert roots_of([str(tree / "work"), "@work"], groups)[:2] == (
        f"{tree}/work",
        f"{tree}/code/api-notes",
    )
    assert roots_of(["@all"], groups) == roots_of(["@work"], groups)[1:]
    # Without groups given, the configuration's are read.
    group_config(tree)
    found = sorted(r.name for r in find(Selection(roots=roots_of(["@other"]))))
    assert found == ["c"]


# --- freeze, sync, gitob ---------------------------------------------------------------


def test_freeze_takes_a_group(capsys: pytest.CaptureFixture[str], repos: RepoFactory) -> None:
    _, one = repos.remote_and_clone("one")
    _, two = repos.remote_and_clone("two")
    write_config(f'[groups]\nmine = ["{one.path}"]\n')
    code, out, _ = run_cli(capsys, "freeze", "@mine")
    assert code == 0
    assert str(one.path) in out and str(two.path) not in out
    code, out, err = run_cli(capsys, "freeze", "@other")
    assert code == 2 and "unknown group '@other'" in err


def test_sync_patterns_take_a_group(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    remote, _ = repos.remote_and_clone("seed")
    url = remote.path.as_uri()
    lines = []
    for rel in ("work/a", "work/b", "code/api-one", "code/web", "else/z"):
        lines += ["[[repo]]", f'path = "{repos.root / rel}"', f'url = "{url}"', ""]
    manifest = tmp_path / "m.toml"
    manifest.write_text("\n".join(lines))
    write_config(f'[groups]\nwork = ["{repos.root}/work", "{repos.root}/code/api-*"]\n')
    code, out, _ = run_cli(capsys, "sync", "-m", str(manifest), "-o", "json", "@work", "z")
    assert code == 0
    assert names(out) == ["a", "api-one", "b", "z"]
    assert (repos.root / "work/a/.git").is_dir() and not (repos.root / "code/web").exists()
    code, out, err = run_cli(capsys, "sync", "-m", str(manifest), "@nope")
    assert code == 2 and "unknown group '@nope'" in err


def test_pick_entries_matches_folders_and_globs_without_the_filesystem() -> None:
    from gitoverit.manifest import ManifestEntry

    entries = [
        ManifestEntry(path=p, url="u", name=os.path.basename(p))
        for p in ("/w/a", "/w/a/sub", "/wx/b", "/c/api-1", "/c/web")
    ]
    groups = {"g": ["/w", "/c/api-*"]}
    picked = [e.path for e in pick_entries(entries, ["@g"], groups)]
    assert picked == ["/w/a", "/w/a/sub", "/c/api-1"]
    assert [e.path for e in pick_entries(entries, ["web", "@g"], groups)][-1] == "/c/web"


def test_gitob_takes_a_group(
    capsys: pytest.CaptureFixture[str], tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group_config(tree)
    monkeypatch.chdir(tree / "other")
    code = branches_main(["@work", "-o", "json"])
    out, _ = capsys.readouterr()
    assert code == 0
    repos = sorted({os.path.basename(b["repo"]) for b in json.loads(out)})
    assert repos == ["a", "api-one", "api-two", "b"]
    code = branches_main(["@nope"])
    _, err = capsys.readouterr()
    assert code == 2 and "unknown group '@nope'" in err


# --- gitoverit group ---------------------------------------------------------------------


def groups_in_file() -> dict[str, Any]:
    import tomllib

    return dict(tomllib.loads(config_file().read_text()).get("groups", {}))


def test_group_add_makes_the_file_and_the_group(
    capsys: pytest.CaptureFixture[str], tree: Path, git_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    assert not config_file().exists()
    code, _, err = run_cli(capsys, "group", "add", "@work", "work", "code/api-*")
    assert code == 0 and "added" in err
    assert groups_in_file() == {"work": [str(tree / "work"), str(tree / "code/api-*")]}
    (git_env / "proj").mkdir()
    code, _, err = run_cli(capsys, "group", "add", "work", str(git_env / "proj"), "work")
    assert code == 0 and "already has" in err
    assert groups_in_file()["work"][-1] == "~/proj", "the home folder is written ~"
    code, out, _ = run_cli(capsys, "group", "list")
    assert out == f"@work  {tree}/work, {tree}/code/api-*, ~/proj\n"


def test_group_add_and_rm_keep_the_comments(capsys: pytest.CaptureFixture[str], tree: Path) -> None:
    path = group_config(tree, "\n[[id_rewrite]]  # the last table\n", 'type = "glob"\n')
    path.write_text(path.read_text() + 'find = "*"\nreplace = "me"\n')
    before = path.read_text()
    code, _, _ = run_cli(capsys, "group", "add", "oss", str(tree / "code/web"), "~/x-*")
    assert code == 0
    text = path.read_text()
    for comment in ("# my settings", "# keep it light", "# named sets of folders", "# the day"):
        assert comment in text
    assert "# the last table" in text
    assert groups_in_file()["oss"] == [str(tree / "code/web"), "~/x-*"]
    code, _, _ = run_cli(capsys, "group", "rm", "oss")
    assert code == 0 and path.read_text() == before
    code, _, _ = run_cli(capsys, "group", "rm", "work", f"{tree}/code/api-*")
    assert code == 0
    assert groups_in_file()["work"] == [f"{tree}/work"]
    assert "# the day job" in path.read_text() and "# my settings" in path.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rm", "nope"), "unknown group '@nope'; known groups: @work, @other"),
        (("rm", "work", "/not/there"), "@work has no /not/there; it has: "),
        (("add", "work", "/not/a/folder"), "not a folder: /not/a/folder"),
        (("add", "-bad", "/tmp"), "No such option"),
        (("add", "a/b", "/tmp"), "bad group name 'a/b'"),
        (("add", "work"), "Missing argument 'PATHS...'"),
    ],
)
def test_group_mistakes_are_usage_errors_that_change_nothing(
    capsys: pytest.CaptureFixture[str], tree: Path, args: tuple[str, ...], message: str
) -> None:
    path = group_config(tree)
    before = path.read_text()
    code, out, err = run_cli(capsys, "group", *args)
    assert code == 2 and out == ""
    assert message in err
    assert path.read_text() == before


def test_group_edit_refuses_a_config_file_with_a_mistake(
    capsys: pytest.CaptureFixture[str], tree: Path
) -> None:
    path = write_config("jobs = 0\n")
    code, _, err = run_cli(capsys, "group", "add", "work", str(tree / "work"))
    assert code == 2 and f"{path}:1: jobs: must be a positive integer" in err
    assert path.read_text() == "jobs = 0\n"
    path.write_text("jobs = [\n")
    code, _, err = run_cli(capsys, "group", "add", "work", str(tree / "work"))
    assert code == 2 and "invalid TOML" in err


def test_group_edit_follows_a_symlinked_config_file(
    capsys: pytest.CaptureFixture[str], tree: Path, tmp_path: Path
) -> None:
    real = tmp_path / "dotfiles" / "gitoverit.toml"
    real.parent.mkdir()
    real.write_text("# kept in dotfiles\n")
    config_file().parent.mkdir(parents=True)
    config_file().symlink_to(real)
    code, _, _ = run_cli(capsys, "group", "add", "work", str(tree / "work"))
    assert code == 0 and config_file().is_symlink()
    assert real.read_text() == f'# kept in dotfiles\n\n[groups]\nwork = ["{tree}/work"]\n'


def test_group_edits_the_earlier_gitoverits_file_when_that_is_the_one_read(
    capsys: pytest.CaptureFixture[str], tree: Path
) -> None:
    earlier = Path(os.environ["XDG_CONFIG_HOME"]) / "gito" / "config.toml"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("jobs = 3\n")
    code, _, _ = run_cli(capsys, "group", "add", "work", str(tree / "work"))
    assert code == 0 and not config_file().exists()
    assert "[groups]" in earlier.read_text()
    code, out, _ = run_cli(capsys, "@work", "-o", "json")
    assert code == 0 and names(out) == ["a", "b"]


def test_group_list_without_groups_says_how_to_add_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(capsys, "group", "list")
    assert code == 0 and out == "" and "gitoverit group add NAME PATH" in err


def test_shell_completion_offers_the_groups(
    capsys: pytest.CaptureFixture[str], tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group_config(tree)
    monkeypatch.setenv("_GITOVERIT_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", "gitoverit @w")
    monkeypatch.setenv("COMP_CWORD", "1")
    assert main([]) == 0
    assert capsys.readouterr().out.splitlines() == ["plain,@work"]
