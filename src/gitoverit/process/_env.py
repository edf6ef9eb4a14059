"""The environment every child process gets: nothing may prompt, and nothing inherited may
point a git it runs at another repository.

:func:`no_prompt_env` is the base of every child's environment, git's (which adds its
locale and locks, :func:`gitoverit.git.command.git_env`) and a command's run with
``gitoverit exec``, so that a ``git pull`` inside ``exec`` cannot hang on a password
either:

- prompts off: ``GIT_TERMINAL_PROMPT=0``, ``GCM_INTERACTIVE=never``, empty askpass programs
  (``SSH_ASKPASS_REQUIRE=never``), ssh in ``BatchMode``; the child also has no controlling
  terminal (its own session) and reads ``/dev/null``, so nothing can prompt;
- no pager and no editor: ``GIT_PAGER=cat``, ``GIT_EDITOR=false``, ``GIT_MERGE_AUTOEDIT=no``;
- inherited ``GIT_DIR``, ``GIT_WORK_TREE``, ``GIT_INDEX_FILE`` and friends removed.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping

#: Variables that point git at a different repository, index or object store than the
#: one it runs in; inheriting them would make git work on the wrong repository.
LOCATION_VARS = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
        "GIT_QUARANTINE_PATH",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_INTERNAL_SUPER_PREFIX",
    }
)

#: ssh as git starts it when nothing else is configured: never asking, never waiting long.
DEFAULT_SSH_COMMAND = "ssh -o BatchMode=yes -o ConnectTimeout=30"

_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def batch_ssh(command: str) -> str:
    """*command* (a shell string that starts ssh) with prompts turned off.

    The option goes right after the program name (past any leading ``VAR=value``
    assignments): ssh keeps the first value it sees for an option, so this overrides a
    ``-o BatchMode=no`` later in the user's command. PuTTY's plink takes ``-batch``.
    """
    command = command.strip()
    start = 0
    while True:
        end = start + _first_word_end(command[start:])
        word = command[start:end]
        rest = command[end:].lstrip()
        if not (_ASSIGNMENT.match(word) and rest):
            break
        start = len(command) - len(rest)
    try:
        program = shlex.split(word)[0]
    except (ValueError, IndexError):
        program = word
    name = os.path.basename(program).lower().removesuffix(".exe")
    flag = "-batch" if name in {"plink", "tortoiseplink"} else "-o BatchMode=yes"
    return f"{command[:end]} {flag}{command[end:]}"


def _first_word_end(command: str) -> int:
    """Index just past the first shell word of *command* (quotes and escapes respected)."""
    quote = ""
    escaped = False
    for i, ch in enumerate(command):
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch.isspace():
            return i
    return len(command)


def inherited_ssh_command(env: Mapping[str, str]) -> str | None:
    """The ssh command *env* names (``GIT_SSH_COMMAND``, else the program ``GIT_SSH``), in
    batch mode; ``None`` when it names none."""
    ssh_command = env.get("GIT_SSH_COMMAND", "").strip()
    if ssh_command:
        return batch_ssh(ssh_command)
    ssh_program = env.get("GIT_SSH", "").strip()
    if ssh_program:
        # GIT_SSH names a program, not a shell command; GIT_SSH_COMMAND takes precedence.
        return batch_ssh(shlex.quote(ssh_program))
    return None


def no_prompt_env(
    base: Mapping[str, str] | None = None, *, ssh_command: str | None = None
) -> dict[str, str]:
    """A child's environment: *base* (default ``os.environ``, never changed) without the
    location variables, with prompts, pager and editor off.

    ssh runs in batch mode: the command *base* names, else *ssh_command* (a configured
    ``core.sshCommand``) in batch mode, else :data:`DEFAULT_SSH_COMMAND`.
    """
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if k not in LOCATION_VARS}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GCM_INTERACTIVE"] = "never"
    # Set but empty: git skips an empty askpass and falls back to the (disabled) terminal.
    env["GIT_ASKPASS"] = ""
    env["SSH_ASKPASS"] = ""
    env["SSH_ASKPASS_REQUIRE"] = "never"
    env["GIT_PAGER"] = "cat"
    env["GIT_EDITOR"] = "false"
    env["GIT_MERGE_AUTOEDIT"] = "no"
    inherited = inherited_ssh_command(env)
    if inherited is not None:
        env["GIT_SSH_COMMAND"] = inherited
    elif ssh_command:
        env["GIT_SSH_COMMAND"] = batch_ssh(ssh_command)
    else:
        env["GIT_SSH_COMMAND"] = DEFAULT_SSH_COMMAND
    return env
