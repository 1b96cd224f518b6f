"""Signed-cookie sessions: the format, rotation, expiry, tampering, and the cookie sent."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tincan_core._errors import TinCanError
from tincan_core._session import (
    SECRET_ENV,
    Flash,
    Session,
    SessionCodec,
    SessionConfig,
    SessionUnavailable,
    read_keys,
)

KEY = "k" * 32
NOW = 1_800_000_000.0
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
SESSIONS = st.dictionaries(st.text(max_size=10), JSON, max_size=5)


@given(SESSIONS)
def test_any_json_session_round_trips(data: dict[str, Any]) -> None:
    codec = SessionCodec([KEY])
    assert codec.loads(codec.dumps(data, NOW), 3600, NOW + 10) == data


@given(SESSIONS, st.data())
def test_any_change_to_a_cookie_makes_it_an_empty_session(data: dict[str, Any], draw: Any) -> None:
    codec = SessionCodec([KEY])
    value = codec.dumps(data, NOW)
    position = draw.draw(st.integers(0, len(value) - 1))
    replacement = draw.draw(st.characters(codec="ascii").filter(lambda c: c != value[position]))
    tampered = value[:position] + replacement + value[position + 1 :]
    assert codec.loads(tampered, 3600, NOW) is None


def test_the_payload_is_plain_signed_json_never_pickle() -> None:
    value = SessionCodec([KEY]).dumps({"user": "ada"}, NOW)
    version, payload, issued, _ = value.split(".")
    assert version == "v1" and issued == str(int(NOW))
    assert json.loads(base64.urlsafe_b64decode(payload + "==")) == {"user": "ada"}


def test_a_foreign_key_or_an_expired_cookie_is_an_empty_session() -> None:
    value = SessionCodec([KEY]).dumps({"a": 1}, NOW)
    assert SessionCodec(["other" * 5]).loads(value, 3600, NOW) is None
    assert SessionCodec([KEY]).loads(value, 3600, NOW + 3601) is None
    assert SessionCodec([KEY]).loads(value, 3600, NOW - 3600) is None  # from the future


def test_old_keys_still_verify_but_the_first_signs() -> None:
    old = SessionCodec(["old-key-" * 3])
    rotated = SessionCodec(["new-key-" * 3, "old-key-" * 3])
    assert rotated.loads(old.dumps({"a": 1}, NOW), 60, NOW) == {"a": 1}
    assert old.loads(rotated.dumps({"a": 1}, NOW), 60, NOW) is None


@pytest.mark.parametrize("value", ["", "v1", "v1.a.b.c", "v2.e30.1.x", "v1.e30.-1.x", "ü.ü.1.ü"])
def test_malformed_cookies_are_empty_sessions(value: str) -> None:
    assert SessionCodec([KEY]).loads(value, 60, NOW) is None


def config(**kwargs: Any) -> SessionConfig:
    options: dict[str, Any] = {
        "codec": SessionCodec([KEY]),
        "cookie_name": "sid",
        "max_age": 600,
        "missing_key": "set TINCAN_SECRET_KEY",
    }
    options.update(kwargs)
    return SessionConfig(**options)


def test_unchanged_sessions_send_no_cookie_and_changed_ones_do() -> None:
    sessions = config()
    env: dict[str, Any] = {"HTTP_COOKIE": "other=1; sid=garbage", "SCRIPT_NAME": "/app"}
    session = sessions.load(env)
    assert dict(session) == {} and session.had_cookie
    assert sessions.header(session, env, "page.pspx") is None
    session["user"] = "ada"
    header = sessions.header(session, env, "page.pspx")
    assert header is not None
    assert header.startswith("sid=v1.")
    assert "; Max-Age=600; Path=/app/; HttpOnly; SameSite=Lax" in header
    assert "Secure" not in header
    value = header.split(";")[0].split("=", 1)[1]
    again = sessions.load({"HTTP_COOKIE": f"sid={value}"})
    assert dict(again) == {"user": "ada"}


def test_https_cookies_are_secure_and_an_emptied_session_is_deleted() -> None:
    sessions = config()
    env = {"wsgi.url_scheme": "https"}
    session = Session({"a": 1}, had_cookie=True)
    session.clear()
    header = sessions.header(session, env, "p")
    assert header is not None and header.startswith("sid=; Max-Age=0;") and "Secure" in header
    assert sessions.header(Session({}), env, "p") is None


def test_a_session_too_large_for_a_cookie_names_the_page() -> None:
    session = Session({})
    session["blob"] = "x" * 5000
    with pytest.raises(TinCanError, match=r"more than a cookie holds") as info:
        config().header(session, {}, "/site/big.pspx")
    assert info.value.file == "/site/big.pspx"


def test_values_that_are_not_json_name_the_page() -> None:
    session = Session({})
    session["when"] = object()
    with pytest.raises(TinCanError, match="session values must be JSON"):
        config().header(session, {}, "/site/p.pspx")


def test_without_a_key_using_the_session_says_what_to_set() -> None:
    with pytest.raises(SessionUnavailable, match="TINCAN_SECRET_KEY"):
        config(codec=None).load({})


def test_flash_messages_last_until_read() -> None:
    session = Session({})
    session.flash("Saved.")
    session.flash("Careful!", "warning")
    assert session.modified
    assert session.flashed() == [Flash("Saved.", "message"), Flash("Careful!", "warning")]
    assert session.flashed() == []
    assert "_flashes" not in session


def test_keys_from_the_environment_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    key_file.write_text("# rotated 2026\nnew-key-new-key-new\nold-key-old-key-old\n")
    monkeypatch.delenv(SECRET_ENV, raising=False)
    assert read_keys(str(key_file)) == (
        ["new-key-new-key-new", "old-key-old-key-old"],
        str(key_file),
    )
    monkeypatch.setenv(SECRET_ENV, "from-env-from-env-1 from-env-from-env-2")
    assert read_keys(str(key_file))[0] == ["from-env-from-env-1", "from-env-from-env-2"]


def test_bad_key_files_are_clear_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    assert read_keys(None) == ([], "")
    with pytest.raises(TinCanError, match="does not exist"):
        read_keys(str(tmp_path / "missing.key"))
    empty = tmp_path / "empty.key"
    empty.write_text("# nothing\n\n")
    with pytest.raises(TinCanError, match="holds no key"):
        read_keys(str(empty))
    short = tmp_path / "short.key"
    short.write_text("# keys\nlong-enough-long-enough\nshort\n")
    with pytest.raises(TinCanError, match="at least 16 characters") as info:
        read_keys(str(short))
    assert info.value.line == 3
