"""Make untrusted text (paths, branch names, URLs, git messages) safe to print.

Names come from the filesystem and from repositories other people control. Control
characters (ESC, BEL, CR, ...) are shown as visible escapes so that no terminal sequence
gets through, and text is always handed to Rich as ``Text``, never as markup.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile(r"[\udc80-\udcff]")


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group(0)
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """*text* with control characters and undecodable bytes shown as escapes."""
    text = _SURROGATE.sub(lambda m: f"\\x{ord(m.group(0)) - 0xDC00:02x}", text)
    return _CONTROL.sub(_escape_char, text)


_USERINFO = re.compile(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^@/]*)@")


def redact_url(url: str) -> str:
    """*url* on one line with any password or token removed.

    ``https://user:token@host/x`` becomes ``https://user:***@host/x``; a bare token
    (``https://ghp_xxx@host/x``) becomes ``https://***@host/x``. The ssh user in
    ``git@host:owner/repo`` is not a credential and is kept.
    """
    url = " ".join(url.split())
    m = _USERINFO.match(url)
    if not m:
        return url
    userinfo = m.group("userinfo")
    if ":" in userinfo:
        user = userinfo.split(":", 1)[0]
        masked = f"{user}:***"
    elif m.group("scheme").lower().startswith(("http", "ftp")):
        masked = "***"
    else:
        return url
    return f"{m.group('scheme')}{masked}@{url[m.end() :]}"


def simplify_url(url: str | None) -> str:
    """A short display form of a remote URL: ``owner/repo`` for GitHub, ``gl:owner/repo``
    for GitLab, ``bb:owner/repo`` for Bitbucket, ``host:path`` otherwise."""
    if not url:
        return ""
    url = redact_url(url)
    host, path = "", url
    scp = re.match(r"^(?:[^@/]+@)?([^:/]+):(?!//)(.*)$", url)
    if "://" in url:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        path = parts.path
        if parts.scheme == "file" or not host:
            host, path = "", parts.path or url
    elif scp:
        host, path = scp.group(1).lower(), scp.group(2)
    # A local remote keeps its leading "/": it is a path, not a "host:path".
    path = path.rstrip("/") if not host else path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    short = {"github.com": "", "gitlab.com": "gl:", "bitbucket.org": "bb:", "codeberg.org": "cb:"}
    if host in short:
        return f"{short[host]}{path}"
    return f"{host}:{path}" if host else path
