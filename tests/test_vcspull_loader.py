"""Our reading of vcspull's configs gives the repos vcspull's own loader gives.

The configs are the examples vcspull ships (copied to ``tests/data/vcspull``) and forms
from its test fixtures; vcspull is installed as a dev dependency.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitoverit.manifest import load_manifest_with_warnings

DATA = Path(__file__).parent / "data" / "vcspull"

FORMS = """\
~/study/:
  short: git+https://example.com/short.git
  plain: https://example.com/plain.git
~/github_projects/:
  kaptan:
    url: git+git@github.com:tony/kaptan.git
    remotes:
      upstream: git+https://github.com/emre/kaptan
      ms:
        fetch_url: git+https://github.com/ms/kaptan.git
        push_url: git+https://github.com/ms/kaptan.git
  byrepo:
    repo: git+https://example.com/byrepo.git
  legacy:
    repo: git+https://example.com/legacy.git
    rev: v1.0
    shallow: true
./relative/:
  rel: git+https://example.com/rel.git
../up/:
  up: git+https://example.com/up.git
/home/me/:
  .vim:
    url: git+git@github.com:tony/vim-config.git
    shell_command_after: ln -sf ~/.vim/.vimrc ~/.vimrc
  .tmux:
    url: git+git@github.com:tony/tmux-config.git
    shell_command_after:
      - echo tmux
~:
  .vim:
    url: git+git@github.com:tony/vim-config.git
    shell_command_after: ln -sf ~/.vim/.vimrc ~/.vimrc
  .tmux:
    url: git+git@github.com:tony/tmux-config.git
    shell_command_after:
      - echo tmux
"""


def vcspull_view(path: Path) -> set[tuple[str, str]]:
    """``(path, git URL)`` of each git repo, as vcspull loads *path* (relative folders
    against the file's folder, as gitoverit reads them)."""
    import yaml
    from vcspull.config import extract_repos

    # vcspull's ``extract_repos`` is what its ``load_configs`` runs on each file, after a
    # validation step that refuses its own christmas-tree example.
    raw = yaml.safe_load(path.read_text())
    # YAML reads a bare ``~`` key as null, which vcspull cannot take; the home folder
    # is meant, and gitoverit reads it so.
    raw = {("~" if k is None else k): v for k, v in raw.items()}
    repos = extract_repos(raw, cwd=path.parent)
    found = set()
    for repo in repos:
        url = str(repo["url"])
        if url.startswith(("hg+", "svn+", "bzr+")):
            continue
        found.add((os.path.normpath(str(repo["path"])), url.removeprefix("git+")))
    return found


def our_view(path: Path) -> set[tuple[str, str]]:
    entries, _ = load_manifest_with_warnings(path)
    return {(e.path, e.url) for e in entries}


@pytest.mark.parametrize(
    "name", ["christmas-tree.yaml", "code-scholar.yaml", "remotes.yaml", "worktrees.yaml"]
)
def test_vcspulls_shipped_examples_give_the_same_repos(
    name: str, tmp_path: Path, git_env: Path
) -> None:
    path = tmp_path / name
    path.write_text((DATA / name).read_text())
    assert our_view(path) == vcspull_view(path)
    assert our_view(path)


def test_every_form_gives_the_same_repos_and_remotes(tmp_path: Path, git_env: Path) -> None:
    import yaml
    from vcspull.config import extract_repos, load_configs

    path = tmp_path / "conf" / ".vcspull.yaml"
    path.parent.mkdir()
    path.write_text(FORMS)
    assert our_view(path) == vcspull_view(path)
    entries = {e.name: e for e in load_manifest_with_warnings(path)[0]}
    no_home = tmp_path / "conf" / "no-home.yaml"
    no_home.write_text(FORMS.split("~:\n")[0])
    theirs = {r["name"]: r for r in load_configs([no_home], cwd=path.parent)}
    assert theirs.keys() | {".vim", ".tmux"} == {
        r["name"]
        for r in extract_repos(
            {("~" if k is None else k): v for k, v in yaml.safe_load(FORMS).items()},
            cwd=path.parent,
        )
    }
    by_path = {e.path: e for e in load_manifest_with_warnings(path)[0]}
    for repo in theirs.values():
        remotes = repo.get("remotes") or {}
        entry = by_path[os.path.normpath(str(repo["path"]))]
        assert dict(entry.remotes) == {
            n: r.fetch_url.removeprefix("git+") for n, r in remotes.items()
        }
        hooks = repo.get("shell_command_after") or []
        assert entry.hooks == tuple([hooks] if isinstance(hooks, str) else hooks)
    assert entries["legacy"].rev == "v1.0" and entries["legacy"].depth == 1
    assert entries["rel"].path == str(tmp_path / "conf" / "relative" / "rel")
    assert entries["up"].path == str(tmp_path / "up" / "up")
    assert entries[".vim"].path == str(git_env / ".vim")


def test_vcspull_worktrees_resolve_against_the_workspace(tmp_path: Path, git_env: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text((DATA / "worktrees.yaml").read_text())
    entries, warnings = load_manifest_with_warnings(path)
    project = next(e for e in entries if e.name == "myproject")
    assert [(w.path, w.ref) for w in project.worktrees] == [
        (str(git_env / "myproject-v2.0"), ("tag", "v2.0.0")),
        (str(git_env / "myproject-dev"), ("branch", "develop")),
        (str(git_env / "myproject-bisect"), ("commit", "abc1234")),
    ]
    assert warnings == []


def test_pin_options_of_the_christmas_tree(tmp_path: Path, git_env: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text((DATA / "christmas-tree.yaml").read_text())
    entries, warnings = load_manifest_with_warnings(path)
    pinned = {e.name: e.pinned for e in entries if "pinned" in e.path}
    assert pinned == {"internal-fork": True, "my-framework": False, "stable-dep": False}
    assert any("sphinx" in w and "hg" in w for w in warnings)
