"""Bad input gets a clear error and exit code 2 before any work starts, naming the place:
the flag and a caret under the fault of an expression, the file, line and key of a config
setting, the variable of a ``GITOVERIT_*`` setting, the file and line of a manifest entry,
the path ``freeze -O`` cannot write."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import test_query
from conftest import RepoFactory
from gitoverit.cli import branches_main, main
from gitoverit.query import RECORD_NAMES, RECORD_TYPES, ExprError, compile_expr, record_env
from gitoverit.query.checker import check
from gitoverit.query.parser import parse
from gitoverit.query.typecheck import ANY, type_check
from gitoverit.query.values import type_name

CARET = re.compile(r"^\s*\^$", re.M)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    command = args[0] in ("sync", "freeze", "config") if args else False
    code = main(list(args) if command else ["--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Make any repository discovery or manifest selection fail the test: the input must be
    refused before the work starts. Yields the calls made, for a control run."""
    import gitoverit.scan
    import gitoverit.select

    calls: list[str] = []
    real_find, real_refs = gitoverit.scan.find, gitoverit.select.manifest_refs

    def find(*args: Any, **kwargs: Any) -> Any:
        calls.append("find")
        return real_find(*args, **kwargs)

    def manifest_refs(*args: Any, **kwargs: Any) -> Any:
        calls.append("manifest_refs")
        return real_refs(*args, **kwargs)

    monkeypatch.setattr(gitoverit.scan, "find", find)
    monkeypatch.setattr(gitoverit.select, "manifest_refs", manifest_refs)
    yield calls


def refused(err: str) -> str:
    """The last line of click's usage error: the message itself."""
    assert "Traceback" not in err
    return err.split("Error: ", 1)[-1]


# ------------------------------------------------------------------------------------------
# 1. A type mismatch in --where / --print is found before the scan


def typed(text: str) -> ExprError:
    with pytest.raises(ExprError) as info:
        compile_expr(text, types=RECORD_TYPES)
    return info.value


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ('ahead > "x"', 6, "cannot compare int > string"),
        ('"x" <= behind', 4, "cannot compare string <= int"),
        ("branch < 3", 7, "cannot compare string < int"),
        ('dirty > "x"', 6, "cannot compare bool > string"),
        ("0 < ahead < name", 10, "cannot compare int < string"),
        ("staged + branch", 7, "unsupported operand types for +: int and string"),
        ("upstream - 1", 9, "unsupported operand types for -"),
        ("untracked * [1] + 'x'", 16, "unsupported operand types for +: list and string"),
        ("-path", 0, "bad operand type for unary -: string"),
        ("ahead in 3", 6, "'in' needs a string, list or dict on the right, not int"),
        ("stashes in name", 8, "'in <string>' needs a string on the left"),
        ("modified[0]", 9, "int cannot be subscripted"),
        ("name['x']", 5, "string index must be an integer, not string"),
        ("branch[1:'x']", 7, "slice bounds must be integers"),
        ("ahead.lower()", 6, "int has no method 'lower'"),
        ("name.get('x')", 5, "string has no method 'get'"),
        ("name.startswith(1)", 5, "startswith() needs a string"),
        ("len(ahead)", 0, "len() needs a string, list or dict, not int"),
        ("days(name)", 0, "days() needs a number, not string"),
        ("abs(branch)", 0, "abs() needs a number"),
        ("rx(ahead, 'x')", 0, "rx() searches a string, not int"),
        ("rx(name, 3)", 0, "rx() pattern must be a string, not int"),
        ("rx(name, None)", 0, "rx() pattern must be a string, not None"),
        ("max(ahead, name)", 0, "max() needs all numbers or all strings"),
        ("int(untrusted_config)", 0, "int() cannot convert list"),
        ("error + 1", 6, "unsupported operand types for +: dict and int"),
        ("mtime > now() - days('7')", 16, "days() needs a number, not string"),
        ("(ahead if dirty else behind) + name", 29, "unsupported operand types for +"),
        ("coalesce(branch, 'x') - 1", 22, "unsupported operand types for -"),
        ("name.lower().split() + 'x'", 21, "unsupported operand types for +: list and string"),
    ],
)
def test_type_mismatches_are_found_statically(text: str, offset: int, message: str) -> None:
    err = typed(text)
    assert message in err.message
    assert (err.offset, err.text) == (offset, text)
    assert err.render().splitlines()[-1] == "  " + " " * offset + "^"


def test_a_number_in_quotes_gets_a_hint() -> None:
    err = typed('ahead > "3"')
    assert (
        err.message == "cannot compare int > string; to compare with a number, drop the quotes: 3"
    )


@pytest.mark.parametrize(
    "text",
    [
        "ahead > 0",  # a nullable int against an int
        "ahead == 'x'",  # == and != never fail
        "branch != 3",
        "mtime > now() - days(7)",
        "ahead + behind > 2.5",
        "dirty + 1",  # a bool is a number, as in Python
        "'-' * ahead",
        "name * True",
        "coalesce(ahead, 0) * 'x'",
        "error['reason'].lower() == 'timeout'",
        "error.get('message', '').startswith('git')",
        "rx(name, branch)",  # a nullable pattern may be a string
        "max(ahead, behind, 0)",
        "min(branch, 'main')",
        "max(untrusted_config) == 'x'",
        "len(fetch_errors) > 0",
        "status.split()[0] == 2",  # an item of a list can be anything
        "int(name) > 1",  # a string may hold a number: found at run time, if at all
        "ahead / 0",  # a fault of the value, not of its type, is left to run time
        "name[::0]",
        "(ahead if dirty else name) + 1",  # one branch works
        "detached or branch + '!'",
    ],
)
def test_what_can_work_is_not_refused(text: str) -> None:
    assert compile_expr(text, types=RECORD_TYPES).text == text


def _parametrized(test: Any) -> Iterator[str]:
    for mark in test.pytestmark:
        if mark.name == "parametrize":
            for case in mark.args[1]:
                yield case[0]


def test_every_expression_the_language_tests_evaluate_passes_the_static_check() -> None:
    texts = [
        text
        for test in (
            test_query.test_filters_over_sample_records,
            test_query.test_operators,
            test_query.test_error_record,
            test_query.test_none_handling,
            test_query.test_functions_and_methods,
        )
        for text in _parametrized(test)
    ]
    assert len(texts) > 150
    for text in texts:
        compile_expr(text, types=RECORD_TYPES)


def test_runtime_type_faults_of_the_language_tests_are_now_static() -> None:
    value_faults = {"ahead / 0", "ahead // 0", "ahead % 0", "0 ** -1", "name[::0]", "int('x')"}
    cases = test_query.test_runtime_faults_point_at_the_operator.pytestmark[0].args[1]
    static = [c for c in cases if c[0] not in value_faults and "**" not in c[0]]
    assert len(static) >= 15
    for text, offset, message in static:
        err = typed(text)
        assert message in err.message, text
        assert err.offset == offset, text


def test_record_types_cover_every_name_and_every_value() -> None:
    assert set(RECORD_TYPES) == RECORD_NAMES
    for record in test_query.RECORDS:
        for name, value in record_env(record).items():
            assert type_name(value) in RECORD_TYPES[name], (name, value)


_TOKENS = [t for t in test_query._TOKENS if t not in (".__class__", "lambda", "for")]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=12).map(" ".join))
def test_static_types_hold_every_value_evaluation_gives(text: str) -> None:
    try:
        checked = check(parse(text), RECORD_NAMES)
        kinds = type_check(checked, RECORD_TYPES)
    except ExprError:
        return
    assert kinds <= ANY
    expr = compile_expr(text, types=RECORD_TYPES)
    for record in test_query.RECORDS:
        try:
            value = expr.evaluate(record_env(record))
        except ExprError:
            continue
        assert type_name(value) in kinds, (text, value)


def test_a_long_expression_is_checked_fast() -> None:
    unit = "error['a'].replace(error['b'], error['c'])"
    text = " or ".join([unit] * 200)
    with test_query.within(1.0):
        compile_expr(text, types=RECORD_TYPES)


@pytest.mark.parametrize("flag", ["-w", "-p"])
def test_cli_refuses_a_type_mismatch_before_the_scan(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, no_work: list[str], flag: str
) -> None:
    repos.repo("alpha")
    code, out, err = run(capsys, flag, 'ahead > "x"', str(repos.root))
    assert (code, out, no_work) == (2, "", [])
    name = "--where" if flag == "-w" else "--print"
    assert f"bad {name} expression\nerror: cannot compare int > string\n" in refused(err)
    assert '  ahead > "x"\n        ^' in err
    # The control: a good expression does reach the scan.
    code, out, _ = run(capsys, flag, "ahead == None", str(repos.root))
    assert code == 0 and no_work == ["find"]


def test_gitob_refuses_a_type_mismatch_of_a_branch_field(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    repo = repos.repo("alpha")
    code = branches_main(["-w", "date > 'yesterday'", str(repo.path)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert "--where: cannot compare float > string\n" in err and "^" in err
    assert "(branch " not in err, "found before any branch was read, not while evaluating one"


# ------------------------------------------------------------------------------------------
# 2. A bare word where a string was meant is told to be quoted


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        (
            "branch == main",
            10,
            "unknown name 'main'; to compare with a string, quote it: branch == \"main\"",
        ),
        (
            "main != branch",
            0,
            "unknown name 'main'; to compare with a string, quote it: \"main\" != branch",
        ),
        ("dirty and upstream == origin", 22, 'quote it: upstream == "origin"'),
        ("branch in [main, 'dev', master]", 11, 'quote it: branch in ["main", \'dev\', "master"]'),
        ("name.lower() == pyfoo", 16, 'quote it: name.lower() == "pyfoo"'),
        ("0 < ahead and branch\n == main", 25, 'quote it: branch == "main"'),
        (
            "branch == stash",
            10,
            "unknown name 'stash'; did you mean 'stashes'? Or, to compare with a string, quote"
            ' it: branch == "stash"',
        ),
        ("branch == (main)", 11, 'quote it: "main"'),
        ("branch in [1, main]", 14, 'quote it: branch in [1, "main"]'),
        ("branch in [lambda: 1, main]", 11, "lambda is not allowed"),  # the first fault
        # A misspelt field compared with a value keeps its "did you mean".
        ('brnach == "main"', 0, "unknown name 'brnach'; did you mean 'branch'?"),
        ("ahaed > 0", 0, "unknown name 'ahaed'; did you mean 'ahead'?"),
        ("ahead == behnd", 9, "unknown name 'behnd'; did you mean 'behind'?"),
        ("foo == bar", 0, "unknown name 'foo'"),
    ],
)
def test_unknown_names_in_comparisons(text: str, offset: int, message: str) -> None:
    for types in (RECORD_TYPES, None):
        with pytest.raises(ExprError) as info:
            compile_expr(text, types=types)
        assert message in info.value.message
        assert info.value.offset == offset
        if types is not None and "quote" not in message:
            assert "quote" not in info.value.message


def test_cli_suggests_quoting_an_unquoted_string(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, no_work: list[str]
) -> None:
    repos.repo("alpha")
    code, out, err = run(capsys, "-w", "branch == main", str(repos.root))
    assert (code, out, no_work) == (2, "", [])
    assert refused(err) == (
        "bad --where expression\n"
        "error: unknown name 'main'; to compare with a string, quote it: branch == \"main\"\n"
        "  branch == main\n"
        "            ^\n"
    )
    code, out, err = run(capsys, "-w", 'brnach == "main"', str(repos.root))
    assert code == 2 and "did you mean 'branch'?" in err and "quote" not in err


# ------------------------------------------------------------------------------------------
# 3. A config setting that cannot be used names the file, line and key, or the variable


@pytest.fixture
def config_file(git_env: Path) -> Path:
    path = git_env / ".config" / "gitoverit" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("columns", '"bogus"', "unknown column 'bogus'; valid columns: dir, "),
        ("columns", '"-,name,+colour"', "unknown column 'colour'"),
        ("columns", "['name']", "must be a string, got ['name']"),
        ("sort", '"size"', "must be one of dir, path, "),
        ("sort", "3", "must be a string, got 3"),
        ("jobs", '"8"', "must be a positive integer no larger than 1024, got '8'"),
        ("jobs", "0", "must be a positive integer"),
        ("net_jobs", "2000", "must be a positive integer no larger than 1024, got 2000"),
        ("timeout", "-5", "must be a positive number of seconds, got -5"),
        ("timeout", "true", "must be a positive number of seconds, got True"),
        ("roots", '"~/code"', "must be a list of non-empty strings"),
        ("roots", '["/no/such/folder"]', "not a folder: /no/such/folder"),
        ("exclude", "[1]", "must be a list of non-empty strings, got [1]"),
        ("trust_repo_config", '"maybe"', "must be true or false, got 'maybe'"),
    ],
)
def test_a_bad_config_value_names_file_line_and_key(
    capsys: pytest.CaptureFixture[str],
    repos: RepoFactory,
    config_file: Path,
    no_work: list[str],
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    value: str,
    problem: str,
) -> None:
    repos.repo("alpha")
    monkeypatch.chdir(repos.root)  # no folder on the command line: the config's roots count
    config_file.write_text(f"# defaults\n\n{key} = {value}\n")
    code, out, err = run(capsys)
    assert (code, out, no_work) == (2, "", [])
    assert refused(err).startswith(f"{config_file}:3: {key}: {problem}"), err


def test_the_example_of_the_issue(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, config_file: Path, no_work: list[str]
) -> None:
    repos.repo("alpha")
    config_file.write_text('columns = "bogus"\n')
    for args in ([str(repos.root)], ["sync", "-m", str(config_file)], ["config"]):
        code, out, err = run(capsys, *args)
        assert (code, out, no_work) == (2, "", [])
        assert f"{config_file}:1: columns: unknown column 'bogus'" in err


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("colums = '-remote'\n", "1: unknown key 'colums' (did you mean 'columns'?); valid keys:"),
        ("jobs = 2\n[output]\nwhere = 'dirty'\n", "2: unknown table 'output'"),
        ("jobs = 2\ncolumns = -remote\n", "2: invalid TOML: Invalid value (column 11)"),
        ("jobs = 2\njobs = 3\n", "2: invalid TOML: Cannot overwrite a value"),
        ("exclude = ['a',\n", "1: invalid TOML"),
    ],
)
def test_a_bad_config_file_names_file_and_line(
    capsys: pytest.CaptureFixture[str],
    repos: RepoFactory,
    config_file: Path,
    no_work: list[str],
    text: str,
    start: str,
) -> None:
    repos.repo("alpha")
    config_file.write_text(text)
    code, out, err = run(capsys, str(repos.root))
    assert (code, out, no_work) == (2, "", [])
    assert refused(err).startswith(f"{config_file}:{start}"), err


@pytest.mark.parametrize(
    ("var", "value", "problem"),
    [
        ("GITOVERIT_COLUMNS", "-remote,bogus", "unknown column 'bogus'"),
        ("GITOVERIT_SORT", "size", "must be one of"),
        ("GITOVERIT_JOBS", "many", "must be a positive integer no larger than 1024, got 'many'"),
        ("GITOVERIT_NET_JOBS", "0", "must be a positive integer"),
        ("GITOVERIT_TIMEOUT", "soon", "must be a positive number of seconds, got 'soon'"),
        ("GITOVERIT_TRUST_REPO_CONFIG", "maybe", "must be true or false, got 'maybe'"),
        ("GITOVERIT_ROOTS", "/no/such/folder", "not a folder: /no/such/folder"),
    ],
)
def test_a_bad_environment_variable_is_named(
    capsys: pytest.CaptureFixture[str],
    repos: RepoFactory,
    config_file: Path,
    no_work: list[str],
    monkeypatch: pytest.MonkeyPatch,
    var: str,
    value: str,
    problem: str,
) -> None:
    repos.repo("alpha")
    config_file.write_text("jobs = 4\n")  # a good file does not hide the variable
    monkeypatch.chdir(repos.root)
    monkeypatch.setenv(var, value)
    code, out, err = run(capsys)
    assert (code, out, no_work) == (2, "", [])
    assert refused(err).startswith(f"{var}: {problem}"), err


def test_a_bad_columns_flag_is_named(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, no_work: list[str]
) -> None:
    repos.repo("alpha")
    code, out, err = run(capsys, "-c", "-remote,bogus", str(repos.root))
    assert (code, out, no_work) == (2, "", [])
    assert refused(err).startswith("-c/--columns: unknown column 'bogus'; valid columns:")
    # The control: good settings from every layer do reach the scan.
    code, out, _ = run(capsys, "-c", "-remote", str(repos.root))
    assert code == 0 and no_work == ["find"]


# ------------------------------------------------------------------------------------------
# 4. A manifest error names the file and the line when it is known, never "line None"


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        # Our TOML
        ("m.toml", '[[repo]]\npath = "a"\nurl = \n', 3, "invalid TOML: Invalid value"),
        ("m.toml", '[[repo]]\npath = "a"\nurl = "x', 3, "Unterminated string (at end of file)"),
        ("m.toml", "x = [\n", 1, "invalid TOML: Invalid value (at end of file)"),
        ("m.toml", '[[repo]]\npath = "a"\nurl = 3\n', 1, "repo 'a': url must be a string, got 3"),
        ("m.toml", '\n[[repo]]\npath = "a"\n', 2, "repo 'a': missing url"),
        ("m.toml", '[[repo]]\npath = 5\nurl = "u"\n', 1, "path must be a non-empty string, got 5"),
        ("m.toml", '[[repo]]\nurl = "u"\n', 1, "repo #1: missing path"),
        ("m.toml", '[[repo]]\npath = "a"\nurl = "u"\nname = 7\n', 1, "name must be a non-empty"),
        (
            "m.toml",
            '[[repo]]\npath = "a"\nurl = "u"\nbranch = 1\n',
            1,
            "branch must be a non-empty",
        ),
        ("m.toml", '[[repo]]\npath = "a"\nurl = "u"\nremotes = "x"\n', 1, "remotes must map"),
        (
            "m.toml",
            '# list\nrepo = [{path = "a", url = "u"}, {path = "b"}]\n',
            2,
            "'b': missing url",
        ),
        ("m.toml", "repo = [1]\n", 1, "repo #1: expected a table, got 1"),
        ("m.toml", '["~/code"]\nx = 1\n', 2, "repo 'x' in '~/code': expected a URL or a table"),
        # vcspull's YAML
        ("m.yaml", "~/code/:\n  flask: [1, 2]\n", 2, "expected a URL or a table, got [1, 2]"),
        ("m.yaml", "~/code/:\n  flask:\n    branch: main\n", 2, "repo 'flask' in '~/code/': miss"),
        ("m.yaml", "~/code/:\n  flask: {repo: 5}\n", 2, "url must be a string, got 5"),
        ("m.yaml", '~/code/:\n  flask: "x\n', 3, "invalid YAML"),
        ("m.yaml", "~/code/: [a]\n", 1, "workspace '~/code/' must map repo names to URLs"),
        ("m.yaml", "~/code/:\n  a: https://x\n  a: https://y\n", 3, "duplicate key 'a'"),
        ("m.yaml", "~/c/:\n  a:\n    repo: https://x\n    remotes: [u]\n", 2, "remotes must map"),
        ("m.yaml", "- a\n- b\n", None, "expected a mapping of workspace folders"),
        # vcspull's JSON
        ("m.json", '{\n  "~/code": {\n    "a": "https://x",\n    "b": 3\n  }\n}\n', 4, "got 3"),
        ("m.json", '{\n\t"~/code": {\n\t\t"b": [1]\n\t}\n}\n', 3, "got [1]"),
        ("m.json", '{"~/code": {\n"a": "https://x",\n"a": "https://y"}}', 3, "duplicate key 'a'"),
        ("m.json", '{"~/code": {"a": }}', 1, "invalid JSON"),
        # Neither TOML nor YAML
        ("repos.txt", "x = [\n", None, "neither TOML (line 1: Invalid value (at end of file))"),
        ("repos.txt", "a = b = 1\n", None, "neither TOML (line 1: Invalid value (column 5))"),
    ],
)
def test_manifest_errors_name_the_line_when_known(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    no_work: list[str],
    name: str,
    text: str,
    line: int | None,
    message: str,
) -> None:
    path = tmp_path / name
    path.write_text(text)
    code, out, err = run(capsys, "sync", "-m", str(path))
    assert (code, out, no_work) == (2, "", [])
    shown = refused(err)
    assert "None" not in shown
    prefix = f"{path}:{line}: " if line is not None else f"{path}: "
    assert shown.startswith(prefix), shown
    assert message in shown, shown


def test_a_missing_manifest_says_who_named_it(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_work: list[str],
) -> None:
    missing = tmp_path / "nope.toml"
    code, _, err = run(capsys, "sync", "-m", str(missing))
    assert code == 2 and f"manifest not found: {missing} (-m/--manifest)" in err
    monkeypatch.setenv("GITOVERIT_MANIFEST", str(missing))
    code, _, err = run(capsys, "sync")
    assert code == 2 and f"manifest not found: {missing} (named by GITOVERIT_MANIFEST)" in err
    monkeypatch.delenv("GITOVERIT_MANIFEST")
    code, _, err = run(capsys, "sync")
    assert code == 2 and "; name one with -m FILE or GITOVERIT_MANIFEST" in err
    assert no_work == []


# ------------------------------------------------------------------------------------------
# 5. freeze -O refuses a file it cannot write, before the scan


def _unwritable_folder(tmp_path: Path) -> tuple[Path, str]:
    """A folder where no file can be created, and the reason given for it. Root may write
    anywhere a mode allows nothing, so root gets /proc, where no file can be made."""
    if os.geteuid() == 0:
        return Path("/proc"), "no file can be created in /proc"
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    return folder, "Permission denied"


def test_freeze_refuses_an_output_it_cannot_write_before_the_scan(
    capsys: pytest.CaptureFixture[str],
    repos: RepoFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_work: list[str],
) -> None:
    repos.repo("alpha")
    monkeypatch.chdir(tmp_path)
    Path("somefile").write_text("a file, not a folder\n")
    locked, locked_reason = _unwritable_folder(tmp_path)
    cases = {
        "missing/out.toml": "folder missing does not exist",
        "missing/deeper/out.toml": "folder missing/deeper does not exist",
        "somefile/out.toml": "somefile is not a folder",
        str(locked / "out.toml"): locked_reason,
    }
    for path, reason in cases.items():
        code, out, err = run(capsys, "freeze", "-O", path, str(repos.root))
        assert (code, out, no_work) == (2, "", []), err
        assert refused(err) == f"-O/--output: cannot write {path}: {reason}\n"
    assert not Path("missing").exists() and not (locked / "out.toml").exists()
    # The control: a path that can be written gets the manifest.
    code, _, _ = run(capsys, "freeze", "-O", "out.toml", str(repos.root))
    assert code == 0 and no_work == ["find"] and Path("out.toml").read_text().startswith("#")


def test_the_write_check_changes_nothing(tmp_path: Path) -> None:
    from gitoverit.commands.freeze import check_writable

    new = tmp_path / "new.toml"
    check_writable(str(new))
    assert not new.exists()
    old = tmp_path / "old.toml"
    old.write_text("[[repo]]\n")
    before = old.stat()
    check_writable(str(old))
    after = old.stat()
    assert old.read_text() == "[[repo]]\n"
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)


def test_a_write_that_fails_after_the_scan_is_one_line_too(
    capsys: pytest.CaptureFixture[str],
    repos: RepoFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gitoverit.commands.freeze

    repos.repo("alpha")
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    # As if the path could no longer be written once the scan is done: no check first.
    monkeypatch.setattr(gitoverit.commands.freeze, "check_writable", lambda path: None)
    code, out, err = run(capsys, "freeze", "-O", str(blocker / "out.toml"), str(repos.root))
    assert (code, out) == (2, "")
    assert refused(err) == f"-O/--output: cannot write {blocker / 'out.toml'}: Not a directory\n"
