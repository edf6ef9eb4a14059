"""sync with vcspull's options and forms, on real clones from local bare remotes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import Repo, RepoFactory, sh
from test_actions import json_records, run_cli


def remote(repos: RepoFactory, name: str, commits: int = 3) -> Repo:
    """A bare remote with *commits* commits on main, tag v1 on the first."""
    seed = repos.repo(f"seed-{name}", commits=commits, aux=True)
    seed.git("tag", "v1", seed.git("rev-list", "--max-parents=0", "HEAD"))
    path = repos.aux / "remotes" / f"{name}.git"
    path.parent.mkdir(parents=True, exist_ok=True)
    sh("git", "clone", "-q", "--bare", seed.path, path)
    return Repo(path)


def sync(capsys: pytest.CaptureFixture[str], manifest: Path, *args: str) -> tuple[int, dict, str]:
    code, out, err = run_cli(capsys, "sync", "-m", str(manifest), "-o", "json", *args)
    return code, json_records(out) if out.strip() else {}, err


def test_options_rev_shallow_depth_pin_and_the_old_spelling(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    r = remote(repos, "r").path.as_uri()
    root = repos.root
    manifest = tmp_path / "v.yaml"
    manifest.write_text(
        f"{root}/:\n"
        f"  tagged: {{repo: 'git+{r}', options: {{rev: v1}}}}\n"
        f"  shallow: {{repo: 'git+{r}', options: {{shallow: true}}}}\n"
        f"  deep: {{repo: 'git+{r}', options: {{depth: 2}}}}\n"
        f"  old: {{repo: 'git+{r}', rev: v1, depth: 2}}\n"
        f"  pinned: {{repo: 'git+{r}', options: {{pin: true}}}}\n"
        f"  pinsync: {{repo: 'git+{r}', options: {{pin: {{sync: true}}}}}}\n"
        f"  pinimport: {{repo: 'git+{r}', options: {{pin: {{import: true}}}}}}\n"
    )
    code, recs, err = sync(capsys, manifest)
    assert code == 0, err
    first = sh("git", "rev-list", "--max-parents=0", "HEAD", cwd=repos.aux / "seed-r")
    assert Repo(root / "tagged").head == first
    assert sh("git", "rev-list", "--count", "HEAD", cwd=root / "shallow") == "1"
    assert sh("git", "rev-list", "--count", "HEAD", cwd=root / "deep") == "2"
    assert Repo(root / "old").head == first  # rev and depth in the old spelling
    assert recs["pinned"]["outcome"] == "skipped" and recs["pinned"]["note"] == "pinned"
    assert recs["pinsync"]["note"] == "pinned" and not (root / "pinsync").exists()
    assert recs["pinimport"]["outcome"] == "cloned"
    # A later sync leaves a repo pinned to a rev where it is.
    seed = Repo(repos.aux / "seed-r")
    seed.commit("later.txt")
    seed.git("push", "-q", str(repos.aux / "remotes" / "r.git"), "main")
    code, recs, _ = sync(capsys, manifest)
    assert recs["tagged"]["outcome"] == "unchanged" and Repo(root / "tagged").head == first


def test_remotes_are_added_never_rewritten_and_branches_never_switched(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    origin, clone = repos.remote_and_clone("a")
    fork = remote(repos, "fork").path.as_uri()
    clone.git("checkout", "-q", "-b", "topic")
    manifest = tmp_path / "v.yaml"
    manifest.write_text(
        f"{repos.root}/:\n"
        f"  a:\n    repo: git+https://x/b.git\n    branch: main\n"
        f"    remotes:\n      fork: {{fetch_url: 'git+{fork}', push_url: 'git+{fork}-push'}}\n"
    )
    code, recs, err = sync(capsys, manifest)
    assert code == 0, err
    note = recs["a"]["note"]
    assert "added remote fork" in note
    assert f"origin is {origin.path.as_uri()}, manifest says https://x/b.git" in note
    assert "on topic, manifest says main" in note
    assert clone.git("remote", "get-url", "origin") == origin.path.as_uri()
    assert clone.git("remote", "get-url", "--push", "fork") == f"{fork}-push"
    assert clone.git("branch", "--show-current") == "topic"


def test_shell_command_after_runs_fails_with_reason_hook_and_no_hooks_skips(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    r = remote(repos, "h").path.as_uri()
    manifest = tmp_path / "v.yaml"
    manifest.write_text(
        f"{repos.root}/:\n"
        f"  good: {{repo: 'git+{r}', shell_command_after: ['pwd > where', 'touch done']}}\n"
        f"  bad: {{repo: 'git+{r}', shell_command_after: 'echo oops >&2; exit 3'}}\n"
    )
    code, recs, _ = sync(capsys, manifest)
    assert code == 1
    assert (repos.root / "good" / "where").read_text().strip() == str(repos.root / "good")
    assert recs["bad"]["error"]["reason"] == "hook"
    assert "exited with 3" in recs["bad"]["error"]["message"]
    assert "oops" in recs["bad"]["error"]["message"]
    sh("rm", "-rf", repos.root / "good", repos.root / "bad")
    code, recs, _ = sync(capsys, manifest, "--no-hooks")
    assert code == 0 and not (repos.root / "good" / "done").exists()


def test_parents_before_children_and_unknown_keys_warn_with_file_and_line(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    r = remote(repos, "p").path.as_uri()
    manifest = tmp_path / "v.yaml"
    lines = [f"{repos.root}/:"]
    for i in range(6):
        lines.append(f"  a{i}/vendor/lib: git+{r}")
    for i in range(6):
        lines.append(f"  a{i}: git+{r}")
    lines.append(f"  odd: {{repo: 'git+{r}', colour: red}}")
    lines.append("  merc: hg+https://hg.example.com/m")
    manifest.write_text("\n".join(lines) + "\n")
    code, out, err = run_cli(
        capsys, "sync", "-m", str(manifest), "-o", "json", "-j", "8", "--net-jobs", "8"
    )
    assert code == 0, err
    assert {r["outcome"] for r in json.loads(out)} == {"cloned"}
    for i in range(6):
        assert (repos.root / f"a{i}" / "vendor" / "lib" / ".git").is_dir()
        assert (repos.root / f"a{i}" / ".git").is_dir()
    assert f"{manifest}:14: repo 'odd' in '{repos.root}/': unknown key 'colour'" in err
    assert f"{manifest}:15:" in err and "hg repositories are not supported" in err


def test_dry_run_plans_in_every_format_and_lists_what_is_not_in_the_manifest(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    origin, clone = repos.remote_and_clone("here")
    repos.remote_and_clone("stray")
    fork = remote(repos, "fork").path.as_uri()
    manifest = tmp_path / "v.yaml"
    manifest.write_text(
        f"{repos.root}/:\n"
        f"  here: {{repo: 'git+{origin.path.as_uri()}', remotes: {{fork: 'git+{fork}'}}}}\n"
        f"  new: git+{fork}\n"
        f"  held: {{repo: 'git+{fork}', options: {{pin: true}}}}\n"
    )
    before = sorted(os.listdir(repos.root))
    code, recs, _ = sync(capsys, manifest, "--dry-run")
    assert code == 0
    assert recs["new"]["outcome"] == "would clone" and recs["new"]["remote_url"] == fork
    assert recs["new"]["path"] == str(repos.root / "new")
    assert recs["here"]["outcome"] == "would update"
    assert "would add remote fork" in recs["here"]["note"]
    assert recs["held"]["outcome"] == "skipped" and recs["held"]["note"] == "pinned"
    assert recs["stray"]["outcome"] == "not in manifest"
    assert sorted(os.listdir(repos.root)) == before
    assert clone.git("remote") == "origin"
    for fmt in ("table", "ndjson"):
        code, out, _ = run_cli(capsys, "sync", "-m", str(manifest), "-n", "-o", fmt)
        assert code == 0
        for word in ("would clone", "would update", "would add remote fork", "not in manifest"):
            assert word in out, (fmt, out)
        assert "skipped: pinned" in out or '"note":"pinned"' in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{root}/:\n  a: https://x/a\n  a/.git/x: https://x/b\n", "inside the .git folder"),
        ("{root}/:\n  a: --upload-pack=touch /tmp/x\n", "must not start with '-'"),
        ("{root}/:\n  a: ext::sh -c touch% /tmp/x\n", "ext::"),
        ("{root}/:\n  a:\n    repo: https://x/a\n    path: ../../../etc/x\n", "outside"),
    ],
)
def test_bad_input_is_refused_with_file_and_line(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path, text: str, message: str
) -> None:
    manifest = tmp_path / "v.yaml"
    manifest.write_text(text.format(root=repos.root))
    code, out, err = run_cli(capsys, "sync", "-m", str(manifest))
    assert code == 2 and out == ""
    assert f"{manifest}:" in err and message in err
    assert os.listdir(repos.root) == []


def test_vcspulls_config_locations_and_repeated_m(
    capsys: pytest.CaptureFixture[str],
    repos: RepoFactory,
    tmp_path: Path,
    git_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r = remote(repos, "loc").path.as_uri()
    (git_env / ".vcspull.json").write_text(json.dumps({str(repos.root): {"j": f"git+{r}"}}))
    conf = git_env / ".config" / "vcspull"
    conf.mkdir(parents=True)
    (conf / "work.yml").write_text(f"{repos.root}/:\n  y: git+{r}\n")
    here = tmp_path / "proj"
    here.mkdir()
    (here / ".vcspull.yaml").write_text(f"./ws/:\n  c: git+{r}\n")
    monkeypatch.chdir(here)
    code, out, err = run_cli(capsys, "sync", "-n", "-o", "json")
    assert code == 0, err
    assert {Path(rec["path"]).name for rec in json.loads(out)} == {"j", "y", "c"}
    one, two = tmp_path / "1.yaml", tmp_path / "2.yaml"
    one.write_text(f"{repos.root}/:\n  one: git+{r}\n")
    two.write_text(f"{repos.root}/:\n  two: git+{r}\n")
    code, recs, _ = sync(capsys, one, "-m", str(two), "-n")
    assert set(recs) == {"one", "two"}


def test_a_hook_that_hangs_is_killed_with_its_children_at_the_time_limit(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    import subprocess
    import time

    r = remote(repos, "slow").path.as_uri()
    manifest = tmp_path / "v.yaml"
    manifest.write_text(
        f"{repos.root}/:\n"
        f"  slow: {{repo: 'git+{r}', shell_command_after: 'sleep 37.2468 & exec sleep 37.2469'}}\n"
    )
    start = time.monotonic()
    code, recs, _ = sync(capsys, manifest, "--timeout", "1")
    assert code == 1 and time.monotonic() - start < 15
    assert recs["slow"]["error"]["reason"] == "hook"
    assert "timed out" in recs["slow"]["error"]["message"]
    time.sleep(0.3)
    for marker in ("sleep 37.2468", "sleep 37.2469"):
        left = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
        assert left.stdout.strip() == "", f"{marker} was killed"


def test_submodules_are_left_alone_without_recurse_submodules(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    lib = remote(repos, "lib")
    seed = repos.repo("seed-app", aux=True)
    seed.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", lib.path.as_uri(), "lib")
    seed.git("commit", "-qm", "add lib")
    app = repos.aux / "remotes" / "app.git"
    sh("git", "clone", "-q", "--bare", seed.path, app)
    manifest = tmp_path / "v.yaml"
    manifest.write_text(f"{repos.root}/:\n  app: 'git+{app.as_uri()}'\n")
    code, _recs, _ = sync(capsys, manifest)
    assert code == 0
    assert list((repos.root / "app" / "lib").iterdir()) == [], "not initialised"
    sh("rm", "-rf", repos.root / "app")
    code, _recs, _ = sync(capsys, manifest, "--recurse-submodules")
    assert code == 0
    assert (repos.root / "app" / "lib" / "file.txt").exists(), "initialised and checked out"


@pytest.mark.parametrize(
    ("url", "stripped"),
    [
        ("https://alice:tok@host/x.git", "https://host/x.git"),
        ("https://tok@host/x.git", "https://host/x.git"),
        ("ssh://git:pw@host/x.git", "ssh://git@host/x.git"),
        ("ssh://git@host/x.git", "ssh://git@host/x.git"),
        ("git@host:x.git", "git@host:x.git"),
        ("https://host/x.git?private_token=abc", "https://host/x.git"),
        ("/srv/git/x.git", "/srv/git/x.git"),
    ],
)
def test_credentials_are_stripped_and_the_url_stays_usable(url: str, stripped: str) -> None:
    from gitoverit.text import strip_credentials

    assert strip_credentials(url) == stripped
