"""Escaping untrusted text and removing credentials from URLs, character by character."""

from __future__ import annotations

import pytest

from gitoverit.text import redact_url, redact_urls, safe_text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain name/é ü", "plain name/é ü"),
        ("\x1b[31mred\x07", "\\x1b[31mred\\x07"),
        ("a\rb\nc\td\x00", "a\\x0db\\x0ac\\x09d\\x00"),
        ("del\x7f csi\x9b", "del\\x7f csi\\x9b"),
        ("\x9f\xa0", "\\x9f\xa0"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
        ("\u202aembed\u202e \u2066isolate\u2069", "\\u202aembed\\u202e \\u2066isolate\\u2069"),
        ("\u2065\u206a\u202f", "\u2065\u206a\u202f"),
        # Bytes that are not UTF-8, as os.fsdecode gives them.
        (b"caf\xe9 \x80\xff".decode("utf-8", "surrogateescape"), "caf\\xe9 \\x80\\xff"),
    ],
)
def test_safe_text_shows_every_control_character_as_an_escape(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@host/x#frag", "https://***@host/x#frag"),
        ("HTTPS://u:p@host/x", "HTTPS://***@host/x"),
        ("SSH://git@host/x", "SSH://git@host/x"),
        ("ssh://git:@host/x", "ssh://git:***@host/x"),
        ("git+ssh://me:pw@host/x", "git+ssh://me:***@host/x"),
        ("ssh+git://me@host/x", "ssh+git://me@host/x"),
        ("ftp://me@host/x", "ftp://***@host/x"),
        ("https://host/x?a=1&b&c=2#f", "https://host/x?a=***&b&c=***#f"),
        ("https://host/x?=1", "https://host/x?=***"),
        ("file:///srv/x\x85", "file:///srv/x\\x85"),
        ("https://u:p@host/x\t", "https://***@host/x\\x09"),
    ],
)
def test_redact_url_hides_credentials_and_query_values(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_urls_redacts_every_url_in_a_message() -> None:
    text = (
        "fatal: unable to access 'https://alice:s3cr3t@example.com/x.git/': 403\n"
        "retrying with ssh://git:pw@example.com/x and http://tok@h/y?key=v"
    )
    assert redact_urls(text) == (
        "fatal: unable to access 'https://***@example.com/x.git/': 403\n"
        "retrying with ssh://git:***@example.com/x and http://***@h/y?key=***"
    )
