"""``make bench-peers``: other multi-repository tools beside the floor and gitoverit.

On the status corpus of ``make bench`` (``bench/corpus.py``, same parameters, same cache),
in one run with interleaved rounds, each command's median and its ratio to the floor
(``xargs -P2 git status``) measured in the same run:

- gitoverit as it is here (``-o json`` and the table: the ``peers`` flavours of
  ``bench/run.py``);
- ``gita ll`` (PyPI ``gita``), its repos registered first with ``gita add``;
- ``vcspull status`` (PyPI ``vcspull``; one ``git status --porcelain`` per repo: clean or
  not) and ``vcspull status --detailed`` (adds branch and ahead/behind, three more gits
  per repo: what compares with a gitoverit record), from a generated config file;
- ``mr -j 2 status`` (Debian ``myrepos``), from a generated ``~/.mrconfig``;
- the earlier gitoverit (PyPI ``gitoverit``), as its ``gitoverit`` command.

``make bench-peers`` installs each Python peer in a venv of its own under ``build/peers/``
(never the project's ``.venv``) and myrepos with apt-get; this script only runs what is
there. A peer that is not installed, or that fails, is reported as such and the others
still run. Everything runs with the corpus's isolated git configuration and a home of its
own (``bench/.corpus/peers-home-*``), where the peers' own configuration files are written.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus as corpus_mod
from run import (
    Variant,
    _r,
    checking_warmup,
    floor_env,
    floor_variant,
    git_commands,
    gitoverit_variants,
    measure,
    print_table,
    ratio,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PEERS = ROOT / "build" / "peers"


def _peer_home(corpus: corpus_mod.Corpus) -> Path:
    """A home for the peers' configuration, next to the corpus, made fresh each run."""
    digest = hashlib.sha256(str(corpus.root).encode()).hexdigest()[:10]
    home = corpus_mod.CACHE_DIR / f"peers-home-{digest}"
    if home.exists():
        shutil.rmtree(home)
    (home / ".config").mkdir(parents=True)
    shutil.copy(corpus.home / ".gitconfig", home / ".gitconfig")
    return home


def _mrconfig(worktrees: Sequence[Path]) -> str:
    return "".join(
        f"[{p}]\ncheckout = git clone 'file:///dev/null' '{p.name}'\n\n" for p in worktrees
    )


def _vcspull_yaml(worktrees: Sequence[Path]) -> str:
    by_parent: dict[str, list[str]] = {}
    for p in worktrees:
        by_parent.setdefault(str(p.parent) + "/", []).append(p.name)
    lines = []
    for parent, names in sorted(by_parent.items()):
        lines.append(json.dumps(parent) + ":")
        for name in names:
            lines.append(f"  {json.dumps(name)}: {json.dumps('git+file:///dev/null/' + name)}")
    return "\n".join(lines) + "\n"


def _register_gita(gita: Path, env: dict[str, str], worktrees: Sequence[Path]) -> str | None:
    """``gita add`` every work tree, in batches; an error message if that failed."""
    import subprocess

    for i in range(0, len(worktrees), 200):
        batch = [str(p) for p in worktrees[i : i + 200]]
        proc = subprocess.run(
            [str(gita), "add", *batch],
            env=env,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if proc.returncode != 0:
            return f"gita add failed ({proc.returncode}): {proc.stderr.decode()[-400:]}"
    return None


def peer_variants(
    peers: Path, corpus: corpus_mod.Corpus, env: dict[str, str], home: Path
) -> tuple[list[Variant], dict[str, str]]:
    """The peers that are installed, as variants; and why each missing one is missing."""
    missing: dict[str, str] = {}
    out: list[Variant] = []
    # Peers write nothing we read; any exit code with output is a run (a corrupt repo in
    # the corpus makes some of them exit non-zero).
    any_code = frozenset(range(256))

    gita = peers / "gita" / "bin" / "gita"
    if gita.is_file():
        error = _register_gita(gita, env, corpus.worktrees)
        if error:
            missing["gita"] = error
        else:
            out.append(Variant("gita", "gita ll", [str(gita), "ll"], env, ok_codes=any_code))
    else:
        missing["gita"] = f"not installed (see {peers}/gita.log)"

    vcspull = peers / "vcspull" / "bin" / "vcspull"
    if vcspull.is_file():
        cfg = home / ".vcspull.yaml"
        cfg.write_text(_vcspull_yaml(corpus.worktrees))
        base = [str(vcspull), "status", "-f", str(cfg), "--color", "never"]
        out.append(Variant("vcspull", "vcspull status", base, env, ok_codes=any_code))
        out.append(
            Variant(
                "vcspull-detailed",
                "vcspull status --detailed",
                [*base, "--detailed"],
                env,
                ok_codes=any_code,
            )
        )
    else:
        missing["vcspull"] = f"not installed (see {peers}/vcspull.log)"

    mr = shutil.which("mr")
    if mr:
        (home / ".mrconfig").write_text(_mrconfig(corpus.worktrees))
        out.append(
            Variant(
                "mr",
                "mr -j 2 status",
                [mr, "-d", str(corpus.repos_dir), "-j", "2", "status"],
                env,
                ok_codes=any_code,
            )
        )
    else:
        missing["mr"] = f"not installed (see {peers}/myrepos.log)"

    earlier = peers / "gitoverit" / "bin" / "gitoverit"
    if earlier.is_file():
        out.append(
            Variant(
                "gitoverit-pypi",
                "earlier gitoverit (PyPI)",
                [str(earlier), str(corpus.repos_dir)],
                env,
                ok_codes=any_code,
            )
        )
    else:
        missing["gitoverit-pypi"] = (
            "not installed: pip install gitoverit found no such package "
            f"(see {peers}/gitoverit.log)"
        )
    return out, missing


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench/peers.py", description=__doc__.splitlines()[0])
    ap.add_argument("--peers", type=Path, default=DEFAULT_PEERS, help="where the peers are")
    ap.add_argument("--repos", type=int, help="repositories in the corpus (default 1000)")
    ap.add_argument("--big-files", type=int, help="files in each big repo (default 20000)")
    ap.add_argument("--big-repos", type=int, default=2, help="big repos (default 2)")
    ap.add_argument("--rounds", type=int, help="measured rounds per variant (default 3)")
    ap.add_argument("--quick", action="store_true", help="200 repos, 2,000-file big repos")
    ap.add_argument("--results", type=Path, default=corpus_mod.CACHE_DIR / "peers-results.json")
    args = ap.parse_args(argv)
    n = args.repos or (200 if args.quick else 1000)
    big_files = args.big_files if args.big_files is not None else (2000 if args.quick else 20000)
    rounds = args.rounds or (2 if args.quick else 3)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    corpus = corpus_mod.load_or_build(n, args.big_repos, big_files, log=log)
    if corpus.build_seconds is not None:
        log(f"corpus: built {corpus.root} in {time.perf_counter() - t0:.1f} s")
    env = corpus_mod.isolated_env(corpus.home, dict(os.environ))
    home = _peer_home(corpus)
    peer_env = corpus_mod.isolated_env(home, dict(os.environ))
    peer_env.pop("COLUMNS", None)
    cmds = git_commands()
    floor = floor_variant(floor_env(env), cmds.status, corpus.list_nul)
    ours = gitoverit_variants("peers", corpus.repos_dir, env)
    theirs, missing = peer_variants(args.peers.resolve(), corpus, peer_env, home)
    variants = [floor, *ours, *theirs]
    checks: dict[str, Any] = {}
    log(f"peers: {len(variants)} variants, 1 warm-up + {rounds} rounds each")
    measure(variants, rounds, on_warmup=checking_warmup(corpus.worktrees, checks), log=log)

    print(
        f"\nPeers: {len(corpus.worktrees)} work trees under {corpus.repos_dir}\n"
        f"  ({rounds} rounds after one warm-up each, interleaved; {os.cpu_count()} CPUs)"
    )
    print_table(variants, floor)
    for name, why in missing.items():
        print(f"  {name}: {why}")
    for key, check in checks.items():
        state = "as expected" if check.get("ok") else f"NOT as expected: {json.dumps(check)[:300]}"
        print(f"  {key}: {check.get('records')} records {state}")
    print(
        "  Not the same work: gita ll and vcspull status --detailed show branch, dirty and"
        " ahead/behind;\n  vcspull status only clean or not; mr status prints git status -s,"
        " unpushed commits and stashes."
    )
    results = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "worktrees": len(corpus.worktrees),
        "rounds": rounds,
        "variants": {v.key: v.as_json() for v in variants},
        "ratios_to_floor": {v.key: _r(ratio(v, floor)) for v in variants},
        "missing": missing,
        "output_checks": checks,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nResults written to {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
