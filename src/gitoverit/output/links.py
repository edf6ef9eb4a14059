"""Where a table cell links to on a terminal (OSC 8 hyperlinks): a branch's page on the
forge that hosts its remote, and a folder as a ``file://`` URL.

Every URL is built from parts that are percent-encoded, so no control character (and so
no terminal escape sequence) from a repository's config or a branch name reaches the
terminal inside a link.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote, urlsplit

#: The forges whose branch pages are known: ``https://HOST/OWNER/REPO/tree/BRANCH``.
FORGES: frozenset[str] = frozenset({"github.com", "gitlab.com", "bitbucket.org", "codeberg.org"})

# user@host:path, the scp-like form git accepts for ssh.
_SCP = re.compile(r"^(?:[^@/]+@)?([^:/]+):(?!//)(.*)$")


def _host_and_path(url: str) -> tuple[str, str] | None:
    """The lower-cased host and the path of a remote *url*, or ``None`` for a local one."""
    if "://" in url:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            return None
        if parts.scheme == "file" or not host:
            return None
        return host, parts.path
    m = _SCP.match(url)
    if m is None:
        return None
    return m.group(1).lower(), m.group(2)


def forge_branch_url(remote_url: str | None, branch_ref: str | None) -> str | None:
    """The web page of branch *branch_ref* (``refs/heads/x`` or ``x``) of the repository at
    *remote_url*, when a known forge (:data:`FORGES`) hosts it; else ``None``."""
    if not remote_url or not branch_ref:
        return None
    found = _host_and_path(remote_url.strip())
    if found is None or found[0] not in FORGES:
        return None
    host, path = found
    path = path.strip("/").removesuffix(".git").strip("/")
    if path.count("/") < 1 or any(part in ("", ".", "..") for part in path.split("/")):
        return None
    branch = branch_ref.removeprefix("refs/heads/")
    return f"https://{host}/{quote(path, safe='/')}/tree/{quote(branch, safe='/')}"


def file_url(path: str) -> str:
    """*path* (absolute) as a ``file://`` URL, percent-encoded byte for byte."""
    return "file://" + quote(os.fsencode(os.path.abspath(path)), safe="/")


__all__ = ["FORGES", "file_url", "forge_branch_url"]
