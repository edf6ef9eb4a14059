"""Manifests: our TOML, vcspull's YAML and JSON, errors, filtering, and freeze's writer."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitoverit.manifest import (
    ManifestEntry,
    ManifestError,
    default_manifest_path,
    dump_toml,
    filter_entries,
    load_manifest,
    load_manifest_with_warnings,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- our TOML ----------------------------------------------------------------------------


def test_toml_repo_tables(tmp_path: Path, git_env: Path) -> None:
    path = write(
        tmp_path / "m" / "manifest.toml",
        """\
[[repo]]
path = "~/code/gitoverit"
url = "git@github.com:me/gitoverit.git"

[[repo]]
path = "~/work/api"
url = "https://github.com/acme/api.git"
name = "acme-api"
branch = "main"
[repo.remotes]
upstream = "https://github.com/upstream/api.git"
"fork.one" = "git+ssh://git@github.com/me/api.git"

[[repo]]
path = "vendored/lib"
url = "/srv/git/lib.git"
""",
    )
    assert load_manifest(path) == [
        ManifestEntry(
            path=str(git_env / "code" / "gitoverit"),
            url="git@github.com:me/gitoverit.git",
            name="gitoverit",
        ),
        ManifestEntry(
            path=str(git_env / "work" / "api"),
            url="https://github.com/acme/api.git",
            name="acme-api",
            remotes=(
                ("upstream", "https://github.com/upstream/api.git"),
                ("fork.one", "ssh://git@github.com/me/api.git"),
            ),
            branch="main",
        ),
        ManifestEntry(
            path=str(tmp_path / "m" / "vendored" / "lib"), url="/srv/git/lib.git", name="lib"
        ),
    ]


def test_toml_workspace_tables(tmp_path: Path, git_env: Path) -> None:
    path = write(
        tmp_path / "manifest.toml",
        """\
["~/code"]
gitoverit = "git@github.com:me/gitoverit.git"
api = { url = "https://github.com/acme/api.git", branch = "main" }

["~/code".tool]
url = "https://github.com/acme/tool.git"
remotes = { upstream = "https://github.com/upstream/tool.git" }

["../rel"]
"with space" = "git+https://example.com/x.git"
""",
    )
    code = git_env / "code"
    assert load_manifest(path) == [
        ManifestEntry(str(code / "gitoverit"), "git@github.com:me/gitoverit.git", "gitoverit"),
        ManifestEntry(str(code / "api"), "https://github.com/acme/api.git", "api", branch="main"),
        ManifestEntry(
            str(code / "tool"),
            "https://github.com/acme/tool.git",
            "tool",
            remotes=(("upstream", "https://github.com/upstream/tool.git"),),
        ),
        ManifestEntry(
            str(tmp_path.parent / "rel" / "with space"), "https://example.com/x.git", "with space"
        ),
    ]


def test_toml_paths_expand_only_a_leading_tilde(tmp_path: Path) -> None:
    path = write(tmp_path / "m.toml", '[[repo]]\npath = "a/$HOME/~b"\nurl = "u"\n')
    assert [e.path for e in load_manifest(path)] == [str(tmp_path / "a" / "$HOME" / "~b")]


def test_empty_manifest_has_no_entries(tmp_path: Path) -> None:
    assert load_manifest(write(tmp_path / "m.toml", "# nothing yet\n")) == []
    assert load_manifest(write(tmp_path / "m.yaml", "")) == []


# --- vcspull YAML ------------------------------------------------------------------------

VCSPULL = """\
~/code/:
  flask: "git+https://github.com/pallets/flask.git"
  libds: git+git@github.com:zhemao/libds.git
  algoxy:
    repo: "git+https://github.com/liuxinyu95/AlgoXY.git"
    remotes:
      tony: "git+ssh://git@github.com/tony/AlgoXY.git"
      plain: https://example.com/algoxy.git
    shell_command_after:
      - make
  old:
    url: https://example.com/old.git
  mine:
    repo: https://example.com/mine.git
    remotes:
      origin: https://example.com/mine.git
      upstream:
        fetch_url: git+https://example.com/up.git
        push_url: https://example.com/up.git
../study/c:
  awesome: "git+git://git.naquadah.org/awesome.git"
$PROJECTS/x:
  y: https://example.com/y.git
~/empty:
"""


def test_vcspull_yaml(tmp_path: Path, git_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROJECTS", str(tmp_path / "projects"))
    path = write(tmp_path / "conf" / ".vcspull.yaml", VCSPULL)
    entries, warnings = load_manifest_with_warnings(path)
    code = git_env / "code"
    assert warnings == []
    assert entries == [
        ManifestEntry(str(code / "flask"), "https://github.com/pallets/flask.git", "flask"),
        ManifestEntry(str(code / "libds"), "git@github.com:zhemao/libds.git", "libds"),
        ManifestEntry(
            str(code / "algoxy"),
            "https://github.com/liuxinyu95/AlgoXY.git",
            "algoxy",
            remotes=(
                ("tony", "ssh://git@github.com/tony/AlgoXY.git"),
                ("plain", "https://example.com/algoxy.git"),
            ),
            hooks=("make",),
        ),
        ManifestEntry(str(code / "old"), "https://example.com/old.git", "old"),
        ManifestEntry(
            str(code / "mine"),
            "https://example.com/mine.git",
            "mine",
            remotes=(("upstream", "https://example.com/up.git"),),
        ),
        ManifestEntry(
            str(tmp_path / "study" / "c" / "awesome"),
            "git://git.naquadah.org/awesome.git",
            "awesome",
        ),
        ManifestEntry(str(tmp_path / "projects" / "x" / "y"), "https://example.com/y.git", "y"),
    ]


def test_vcspull_other_vcs_are_skipped_with_warnings(tmp_path: Path) -> None:
    path = write(
        tmp_path / "v.yml",
        """\
/src:
  a: hg+https://hg.example.com/a
  b: "svn+svn://svn.example.com/b"
  c:
    repo: https://example.com/c
    vcs: hg
  d: git+https://example.com/d.git
""",
    )
    entries, warnings = load_manifest_with_warnings(path)
    assert [e.name for e in entries] == ["d"]
    assert warnings == [
        f"{path}:2: repo 'a' in '/src': skipped, hg repositories are not supported",
        f"{path}:3: repo 'b' in '/src': skipped, svn repositories are not supported",
        f"{path}:4: repo 'c' in '/src': skipped, hg repositories are not supported",
    ]
    assert load_manifest(path) == entries


def test_vcspull_json(tmp_path: Path) -> None:
    path = write(
        tmp_path / "v.json",
        '{"/src": {"a": "git+https://example.com/a.git", "b": {"repo": "https://x/b"}}}',
    )
    assert load_manifest(path) == [
        ManifestEntry("/src/a", "https://example.com/a.git", "a"),
        ManifestEntry("/src/b", "https://x/b", "b"),
    ]


def test_format_is_sniffed_without_a_known_extension(tmp_path: Path) -> None:
    yaml_file = write(tmp_path / "repos", "/src:\n  a: https://x/a\n")
    toml_file = write(tmp_path / "repos.conf", '["/src"]\na = "https://x/a"\n')
    expected = [ManifestEntry("/src/a", "https://x/a", "a")]
    assert load_manifest(yaml_file) == expected
    assert load_manifest(toml_file) == expected


# --- errors ------------------------------------------------------------------------------


def error_of(path: Path) -> str:
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert info.value.file == str(path)
    return str(info.value)


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        ("bad.toml", '[[repo]]\npath = "x"\nurl = \n', 3, "invalid TOML"),
        ("bad.yaml", "/src:\n  a: [unclosed\n  b: c\n", 3, "invalid YAML"),
        ("bad.yaml", "/src:\n  a: x\n   b: y\n", 3, "invalid YAML"),
        ("bad.json", '{"/src": {"a": }}', 1, "invalid JSON"),
        (
            "m.toml",
            '[[repo]]\npath = "/a"\nurl = "u"\n\n[[repo]]\npath = "/b"\nbranch = "main"\n',
            5,
            "repo '/b': missing url",
        ),
        ("m.toml", '[[repo]]\nurl = "u"\n', 1, "repo #1: missing path"),
        ("m.yaml", "/src:\n  a:\n    remotes: {}\n", 2, "repo 'a' in '/src': missing url"),
        ("m.yaml", "/src:\n  a:\n", 2, "repo 'a' in '/src': missing url"),
        ("m.yaml", "/src:\n  a: ''\n", 2, "url is empty"),
        (
            "m.toml",
            '[[repo]]\npath = "/a/x"\nurl = "u"\n\n["/a"]\nx = "v"\n',
            6,
            "repo 'x': path /a/x is already used by repo 'x' (line 1)",
        ),
        ("m.yaml", "/a:\n  x: u\n/a/:\n  x: v\n", 4, "path /a/x is already used"),
        ("m.toml", '[[repo]]\npath = "/a"\nurl = "u"\nbrnch = "main"\n', 1, "unknown key 'brnch'"),
        ("m.toml", '["/a"]\nx = { url = "u", shell = "make" }\n', 2, "unknown key 'shell'"),
        ("m.toml", 'version = 1\n[[repo]]\npath = "/a"\nurl = "u"\n', 1, "top-level key"),
        ("m.toml", '[repo]\nx = "u"\n', 1, "[[repo]] tables"),
        ("m.yaml", "/a:\n  x: --upload-pack=touch /tmp/pwned\n", 2, "must not start with '-'"),
        ("m.yaml", "/a:\n  ../escape: https://x\n", 2, "folder name inside the workspace"),
        ("m.yaml", "/a:\n  /etc: https://x\n", 2, "folder name inside the workspace"),
        (
            "m.yaml",
            "/a:\n  x: https://x\n  y:\n    repo: https://y\n    branch: 'a b'\n",
            3,
            "branch",
        ),
        (
            "m.yaml",
            "/a:\n  x:\n    repo: https://x\n    remotes:\n      origin: https://other\n",
            2,
            "remote 'origin'",
        ),
        ("m.yaml", "- a\n- b\n", None, "expected a mapping of workspace folders"),
        ("m.yaml", "/a: [x, y]\n", 1, "workspace '/a' must map repo names to URLs"),
        ("m.yaml", "/a:\n  x: 3\n", 2, "expected a URL or a table, got 3"),
    ],
)
def test_invalid_manifest_names_file_and_line(
    tmp_path: Path, name: str, text: str, line: int | None, message: str
) -> None:
    path = write(tmp_path / name, text)
    error = error_of(path)
    prefix = f"{path}:{line}: " if line is not None else f"{path}: "
    assert error.startswith(prefix), error
    assert message in error


def test_a_yaml_key_given_twice_is_read_as_vcspull_reads_it(tmp_path: Path) -> None:
    path = write(tmp_path / "m.yaml", "/a:\n  x: u\n  x: v\n/b:\n  y: w\n/a:\n  z: q\n")
    entries, warnings = load_manifest_with_warnings(path)
    assert [(e.path, e.url) for e in entries] == [("/a/x", "v"), ("/a/z", "q"), ("/b/y", "w")]
    assert warnings == [
        f"{path}:3: /a / x: given again; the later one is used",
        f"{path}:6: workspace '/a' is given again; its repos are merged",
    ]


def test_missing_and_unreadable_manifests(tmp_path: Path) -> None:
    assert "no such manifest file" in error_of(tmp_path / "nope.toml")
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe\x00")
    assert "not valid UTF-8" in error_of(path)


def test_unknown_extension_that_is_neither_format(tmp_path: Path) -> None:
    error = error_of(write(tmp_path / "repos.txt", "[x\n: : :\n"))
    assert "neither TOML" in error
    assert "YAML" in error


# --- default path ------------------------------------------------------------------------


def test_default_manifest_path_search_order(git_env: Path) -> None:
    xdg_toml = git_env / ".config" / "gitoverit" / "manifest.toml"
    assert default_manifest_path() == xdg_toml
    write(git_env / ".vcspull.yml", "{}\n")
    assert default_manifest_path() == git_env / ".vcspull.yml"
    write(git_env / ".vcspull.yaml", "{}\n")
    assert default_manifest_path() == git_env / ".vcspull.yaml"
    write(xdg_toml, "")
    assert default_manifest_path() == xdg_toml
    env = {"HOME": str(git_env), "GITOVERIT_MANIFEST": "~/elsewhere.toml"}
    assert default_manifest_path(env) == git_env / "elsewhere.toml"


# --- filtering ---------------------------------------------------------------------------


def test_filter_entries(git_env: Path) -> None:
    home = str(git_env)
    entries = [
        ManifestEntry(f"{home}/code/gitoverit", "u1", "gitoverit"),
        ManifestEntry(f"{home}/code/flask", "u2", "flask"),
        ManifestEntry("/srv/mirror/flask-docs", "u3", "docs"),
        ManifestEntry(f"{home}/work/api", "u4", "acme-api"),
    ]
    assert filter_entries(entries, []) == entries
    assert filter_entries(entries, ["fl*"]) == [entries[1]]
    assert filter_entries(entries, ["*flask*"]) == [entries[1], entries[2]]
    assert filter_entries(entries, ["~/code/*"]) == entries[:2]
    assert filter_entries(entries, [f"{home}/code/*"]) == entries[:2]
    assert filter_entries(entries, ["work/*"]) == [entries[3]]
    assert filter_entries(entries, ["/srv/*", "acme-api"]) == [entries[2], entries[3]]
    assert filter_entries(entries, ["GITOVERIT"]) == []
    assert filter_entries(entries, ["nothing"]) == []


# --- writing -----------------------------------------------------------------------------


def test_dump_toml_exact_text(git_env: Path, tmp_path: Path) -> None:
    entries = [
        ManifestEntry(
            str(git_env / "code" / "gitoverit"), "git@github.com:me/gitoverit.git", "gitoverit"
        ),
        ManifestEntry(
            str(git_env / "work" / "api"),
            "https://github.com/acme/api.git",
            "acme-api",
            remotes=(("upstream", "https://github.com/upstream/api.git"), ("my.fork", "x")),
            branch="main",
        ),
        ManifestEntry(str(tmp_path / "base" / "lib"), "hg+looks-like-a-prefix", "lib"),
        ManifestEntry('/opt/say "hi"\n', "u", 'say "hi"\n'),
    ]
    text = dump_toml(entries, base=str(tmp_path / "base"))
    assert text == (
        "# gitoverit manifest: `gitoverit sync` clones each repo that is missing\n"
        "# and fast-forwards the others.\n"
        "\n"
        "[[repo]]\n"
        'path = "~/code/gitoverit"\n'
        'url = "git@github.com:me/gitoverit.git"\n'
        "\n"
        "[[repo]]\n"
        'path = "~/work/api"\n'
        'url = "https://github.com/acme/api.git"\n'
        'name = "acme-api"\n'
        'branch = "main"\n'
        "[repo.remotes]\n"
        'upstream = "https://github.com/upstream/api.git"\n'
        '"my.fork" = "x"\n'
        "\n"
        "[[repo]]\n"
        'path = "lib"\n'
        'url = "git+hg+looks-like-a-prefix"\n'
        "\n"
        "[[repo]]\n"
        'path = "/opt/say \\"hi\\"\\n"\n'
        'url = "u"\n'
    )
    saved = write(tmp_path / "base" / "manifest.toml", text)
    assert load_manifest(saved) == entries


def test_dump_toml_refuses_what_could_not_be_read_back() -> None:
    with pytest.raises(ManifestError, match="not absolute"):
        dump_toml([ManifestEntry("rel/path", "u", "path")])
    with pytest.raises(ManifestError, match="not valid Unicode"):
        dump_toml([ManifestEntry("/a/\udcff", "u", "x")])
    with pytest.raises(ManifestError, match="must not start with '-'"):
        dump_toml([ManifestEntry("/a/b", "-u", "b")])
    with pytest.raises(ManifestError, match="listed twice"):
        dump_toml([ManifestEntry("/a/b", "u", "b", remotes=(("up", "x"), ("up", "y")))])


def test_relative_path_starting_with_tilde_is_protected(tmp_path: Path) -> None:
    entries = [ManifestEntry(str(tmp_path / "~user"), "u", "~user")]
    text = dump_toml(entries, base=str(tmp_path))
    assert 'path = "./~user"' in text
    assert load_manifest(write(tmp_path / "m.toml", text)) == entries


_TRICKY = st.sampled_from(
    [
        "with space",
        'q"uote',
        "it's",
        "ünïcødé",
        "日本語",
        "~tilde",
        "$HOME",
        "back\\slash",
        "new\nline",
        "tab\there",
        "#hash",
        "[x]",
        "a=b",
        "..dots",
        "-dash",
        "\x7f",
        "😀",
    ]
)
_SEGMENT = st.one_of(
    _TRICKY,
    st.text(
        st.characters(exclude_categories=("Cs",), exclude_characters="/\x00"),
        min_size=1,
        max_size=10,
    ).filter(lambda s: s not in (".", "..")),
)
_URL = st.one_of(
    st.sampled_from(
        [
            "git@github.com:me/x.git",
            'https://user:p"w@host/x y.git',
            "hg+https://not-hg",
            "git+git+x",
            "file:///srv/ü.git",
            "C:\\repos\\x",
        ]
    ),
    st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(
        lambda s: s.strip() != "" and not s.startswith("-")
    ),
)
_REF = st.sampled_from(["main", "feature/x", "ünï", "release-1.0", "a_b", "UP"])


@st.composite
def _entries(draw: st.DrawFn, base: str, home: str) -> list[ManifestEntry]:
    count = draw(st.integers(0, 5))
    result: list[ManifestEntry] = []
    seen: set[str] = set()
    for _ in range(count):
        top = draw(st.sampled_from([base, home, "/opt/elsewhere"]))
        parts = draw(st.lists(_SEGMENT, min_size=1, max_size=3))
        path = os.path.join(top, *parts)
        if path in seen:
            continue
        seen.add(path)
        name = draw(st.one_of(st.just(parts[-1]), _SEGMENT))
        remote_names = draw(st.lists(_REF.filter(lambda r: r != "origin"), unique=True, max_size=3))
        remotes = tuple((r, draw(_URL)) for r in remote_names)
        branch = draw(st.one_of(st.none(), _REF))
        result.append(ManifestEntry(path, draw(_URL), name, remotes, branch))
    return result


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_dump_toml_round_trips_through_load_manifest(git_env: Path, data: st.DataObject) -> None:
    # Only reads the home folder that git_env set up; each example writes in its own folder.
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base")
        entries = data.draw(_entries(base, str(git_env)))
        use_base = data.draw(st.booleans())
        text = dump_toml(entries, base=base if use_base else None)
        saved = write(Path(base) / "manifest.toml", text)
        assert load_manifest(saved) == entries
