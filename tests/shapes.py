"""Build a folder holding one real repository in each shape the scan must handle."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import Repo, RepoFactory, sh

NON_UTF8 = b"caf\xe9-\xff"


def build_shapes(repos: RepoFactory) -> dict[str, Path]:
    """Create every repo shape under ``repos.root``; returns name -> work-tree path.

    Remotes and helper repos live in ``repos.aux``, outside the scanned folder.
    """
    out: dict[str, Path] = {}

    def add(name: str, repo: Repo) -> Repo:
        out[name] = repo.path
        return repo

    add("clean", repos.remote_and_clone("clean")[1])

    r = add("modified", repos.repo("modified", commits=2))
    r.write("file.txt", "changed\n")
    r.write("file1.txt", "changed too\n")

    r = add("untracked", repos.repo("untracked"))
    r.write("new.txt")
    r.write("newdir/a.txt")
    r.write("newdir/b.txt")

    r = add("staged", repos.repo("staged"))
    r.write("added.txt")
    r.git("add", "added.txt")

    r = add("deleted", repos.repo("deleted", commits=2))
    (r.path / "file1.txt").unlink()

    r = add("conflicted", repos.repo("conflicted"))
    r.git("checkout", "-q", "-b", "other")
    r.commit("file.txt", "other side\n")
    r.git("checkout", "-q", "main")
    r.commit("file.txt", "main side\n")
    r.git("merge", "-q", "other", check=False)

    r = add("stashed", repos.repo("stashed"))
    r.write("file.txt", "stash me\n")
    r.git("stash", "-q")
    r.write("file.txt", "stash me too\n")
    r.git("stash", "-q")

    remote, r = repos.remote_and_clone("ahead")
    add("ahead", r)
    r.commit("a.txt")
    r.commit("b.txt")

    remote, r = repos.remote_and_clone("behind")
    add("behind", r)
    repos.push_from_other(remote, 3)
    r.git("fetch", "-q")

    remote, r = repos.remote_and_clone("diverged")
    add("diverged", r)
    repos.push_from_other(remote, 1)
    r.commit("local.txt")
    r.git("fetch", "-q")

    remote, r = repos.remote_and_clone("gone")
    add("gone", r)
    r.git("checkout", "-q", "-b", "feature")
    r.git("push", "-q", "-u", "origin", "feature")
    remote.git("branch", "-D", "feature")
    r.git("fetch", "-q", "--prune")

    add("no-upstream", repos.repo("no-upstream"))

    r = add("detached", repos.repo("detached", commits=2))
    r.git("checkout", "-q", "HEAD~1")

    add("unborn", repos.repo("unborn", commits=0))

    r = add("rebasing", repos.repo("rebasing"))
    r.git("checkout", "-q", "-b", "topic")
    r.commit("file.txt", "topic\n")
    r.git("checkout", "-q", "main")
    r.commit("file.txt", "main\n")
    r.git("checkout", "-q", "topic")
    r.git("rebase", "-q", "main", check=False)

    sub_src = repos.repo("subsrc", aux=True)
    r = add("with-submodule", repos.repo("with-submodule"))
    r.git(
        "-c", "protocol.file.allow=always", "submodule", "add", "-q", sub_src.path.as_uri(), "sub"
    )
    r.git("commit", "-q", "-m", "add submodule")
    out["with-submodule/sub"] = r.path / "sub"

    r = add("has-worktree", repos.repo("has-worktree"))
    wt = repos.root / "linked-modules-wt"
    r.git("worktree", "add", "-q", "-b", "wt-branch", str(wt))
    out["linked-modules-wt"] = wt

    r = add("outer", repos.repo("outer"))
    r.write(".gitignore", "ignored-inner/\n")
    r.git("add", ".gitignore")
    r.git("commit", "-q", "-m", "ignore")
    add("outer/inner", repos.repo("outer/inner"))
    repos.repo("outer/ignored-inner")  # ignored by its parent: not reported by default

    os.symlink(out["clean"], repos.root / "link-to-clean")

    bad = repos.root.joinpath(os.fsdecode(NON_UTF8))
    sh("git", "init", "-q", "-b", "main", bad)
    weird = Repo(bad)
    (bad / os.fsdecode(b"f\xfcr.txt")).write_text("x\n")
    weird.git("add", "-A")
    weird.git("commit", "-q", "-m", "non-utf8")
    (bad / os.fsdecode(b"n\xe9w.txt")).write_text("y\n")
    out["non-utf8"] = bad

    r = add("corrupt", repos.repo("corrupt"))
    (r.path / ".git" / "index").write_bytes(b"DIRC garbage that is not an index")
    return out
