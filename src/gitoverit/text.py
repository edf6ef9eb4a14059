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


_SCHEME_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*@)?([^?#]*)(\?[^#]*)?(#.*)?$", re.S)
_SSH_SCHEMES = frozenset({"ssh://", "git+ssh://", "ssh+git://"})
_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def redact_url(url: str) -> str:
    """Remove credentials from a URL and put it on one line.

    ``https://user:token@host/x`` and ``https://token@host/x`` become ``https://***@host/x``
    (a user name alone is a common way to pass a token over HTTP). For ssh URLs the user
    name is kept (``ssh://git@host/x``, ``git@host:x``) and only a password is redacted.
    Query values are masked. Control characters are shown as ``\\xNN``.
    """
    m = _SCHEME_URL.match(url)
    if m is not None:
        scheme, userinfo, rest, query, frag = m.groups()
        if userinfo:
            user, sep, _ = userinfo[:-1].partition(":")
            if scheme.lower() in _SSH_SCHEMES:
                userinfo = f"{user}:***@" if sep else userinfo
            else:
                userinfo = "***@"
        if query:
            query = "?" + "&".join(
                f"{k}=***" if eq else k
                for k, eq, _ in (p.partition("=") for p in query[1:].split("&"))
            )
        url = f"{scheme}{userinfo or ''}{rest}{query or ''}{frag or ''}"
    return _URL_CONTROL.sub(lambda c: f"\\x{ord(c.group()):02x}", url)


def strip_credentials(url: str) -> str:
    """*url* without its credentials, still usable: ``https://user:token@host/x`` and
    ``https://token@host/x`` become ``https://host/x``, and the query string goes (it
    can carry a token). For ssh URLs the user name is kept (``ssh://git@host/x``,
    ``git@host:x``) and only a password removed. Nothing is escaped: the result is data
    for a program, not text for a terminal (:func:`redact_url` is for showing a URL)."""
    m = _SCHEME_URL.match(url)
    if m is None:
        return url
    scheme, userinfo, rest, _query, frag = m.groups()
    if userinfo:
        user = userinfo[:-1].partition(":")[0]
        userinfo = f"{user}@" if scheme.lower() in _SSH_SCHEMES and user else ""
    return f"{scheme}{userinfo or ''}{rest}{frag or ''}"


_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")


def redact_urls(text: str) -> str:
    """*text* with the credentials of every ``scheme://`` URL in it removed, as
    :func:`redact_url` does (git's messages quote the URLs they fail on)."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


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
