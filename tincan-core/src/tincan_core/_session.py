"""Signed-cookie sessions and flash messages.

A session is a dict of JSON values kept in the browser, in one cookie::

    v1.<payload>.<issued>.<signature>

``payload`` is the compact JSON of the session, base64url-encoded; ``issued``
is the Unix time of signing (decimal); ``signature`` is HMAC-SHA256 over
``v1.<payload>.<issued>``, base64url, with a key derived from the webapp's
secret. Nothing is ever unpickled. A cookie that does not verify with any of
the webapp's keys, is older than the session's maximum age, or is not
well-formed is an empty session: never an error.

Keys come from ``$TINCAN_SECRET_KEY`` or from the key file named in
``tincan.toml`` (one key per line). The first key signs; every key verifies,
so a key is rotated by putting a new first line above the old one and
removing the old line once its cookies have expired.

Nothing is shared between processes: any number of workers or machines that
have the same keys read the same sessions.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote

from ._errors import TinCanError
from ._settings import Settings

__all__ = [
    "COOKIE_LIMIT",
    "SECRET_ENV",
    "SESSION_KEY",
    "Flash",
    "Session",
    "SessionCodec",
    "SessionConfig",
    "SessionUnavailable",
    "read_keys",
    "save_session",
    "session_config",
]

SECRET_ENV = "TINCAN_SECRET_KEY"
SESSION_KEY = "tincan.session"  # environ key of the request's session, once a page used it
COOKIE_LIMIT = 4096  # bytes of "name=value"; browsers refuse larger cookies
FLASHES_KEY = "_flashes"
_VERSION = "v1"
_DERIVE = b"tincan-core session signing key v1"


class SessionUnavailable(TinCanError):
    """The page used its session, but the webapp has no secret key to sign it with."""


class Flash(NamedTuple):
    """A message left for the next page: ``page.flashed()`` gives these."""

    message: str
    category: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    """Signs and verifies session cookie values with a list of keys (the first signs)."""

    def __init__(self, secrets_: Sequence[str | bytes]) -> None:
        if not secrets_:
            raise ValueError("at least one key is needed")
        self._keys = [
            hmac.new(
                s.encode("utf-8") if isinstance(s, str) else s, _DERIVE, hashlib.sha256
            ).digest()
            for s in secrets_
        ]

    def _sign(self, key: bytes, message: str) -> str:
        return _b64(hmac.new(key, message.encode("ascii"), hashlib.sha256).digest())

    def dumps(self, data: dict[str, Any], now: float | None = None) -> str:
        """The cookie value for ``data`` (``TypeError``/``ValueError`` if it is not JSON)."""
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        issued = int(time.time() if now is None else now)
        message = f"{_VERSION}.{_b64(text.encode('utf-8'))}.{issued}"
        return f"{message}.{self._sign(self._keys[0], message)}"

    def loads(self, value: str, max_age: int, now: float | None = None) -> dict[str, Any] | None:
        """The session in ``value``, or ``None`` if it is forged, expired or malformed."""
        try:
            version, payload, issued, signature = value.split(".")
        except ValueError:
            return None
        if version != _VERSION or not issued.isdigit() or len(issued) > 12:
            return None
        message = f"{version}.{payload}.{issued}"
        if not (message.isascii() and signature.isascii()):
            return None
        # Every key is compared, so the time taken says nothing about which matched.
        if not sum(hmac.compare_digest(signature, self._sign(k, message)) for k in self._keys):
            return None
        age = (time.time() if now is None else now) - int(issued)
        if age > max_age or age < -300:  # from the future: a clock far off, or a forgery
            return None
        try:
            data = json.loads(_unb64(payload).decode("utf-8"))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None


def read_keys(key_file: str | None) -> tuple[list[str], str]:
    """The secret keys of a webapp and where they came from.

    ``$TINCAN_SECRET_KEY`` (keys separated by whitespace) wins over ``key_file``
    (an absolute path; one key per line, ``#`` comments). Raises
    :class:`TinCanError` for a key file that cannot be read or holds no key.
    """
    env = os.environ.get(SECRET_ENV, "")
    if env.strip():
        return env.split(), f"${SECRET_ENV}"
    if key_file is None:
        return [], ""
    try:
        with open(key_file, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise TinCanError("session key file does not exist", key_file) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise TinCanError(f"cannot read the session key file: {reason}", key_file) from None
    keys = []
    for number, line in enumerate(lines, 1):
        key = line.strip()
        if not key or key.startswith("#"):
            continue
        if len(key) < 16:
            raise TinCanError("a session key must be at least 16 characters", key_file, number)
        keys.append(key)
    if not keys:
        raise TinCanError("the session key file holds no key", key_file)
    return keys, key_file


def new_key() -> str:
    """A fresh random key, as ``tincan new`` writes into a key file."""
    return secrets.token_urlsafe(48)


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """What a launch decided about sessions; ``codec`` is ``None`` without a key."""

    codec: SessionCodec | None
    cookie_name: str
    max_age: int
    missing_key: str  # what to set, for the log line of a page that needs a session

    def load(self, environ: dict[str, Any]) -> Session:
        """The request's session (empty when it has none or a bad one)."""
        if self.codec is None:
            raise SessionUnavailable(self.missing_key)
        session = environ.get(SESSION_KEY)
        if session is None:  # one session per request, forwards included
            data = None
            cookie = _cookie(environ.get("HTTP_COOKIE", ""), self.cookie_name)
            if cookie:
                data = self.codec.loads(cookie, self.max_age)
            session = Session(data or {}, had_cookie=cookie is not None, config=self)
            environ[SESSION_KEY] = session
        return session

    def header(self, session: Session, environ: dict[str, Any], name: str) -> str | None:
        """The ``Set-Cookie`` value for a changed session, or ``None`` if none is needed.

        ``name`` (the page) is named in the error of a session too large for a cookie.
        """
        if not session.modified or self.codec is None:
            return None
        path = _cookie_path(environ)
        secure = "; Secure" if environ.get("wsgi.url_scheme") == "https" else ""
        attributes = f"; Path={path}; HttpOnly; SameSite=Lax{secure}"
        if not session:
            if not session.had_cookie:
                return None
            return f"{self.cookie_name}=; Max-Age=0{attributes}"
        try:
            value = self.codec.dumps(dict(session))
        except (TypeError, ValueError) as exc:
            raise TinCanError(f"session values must be JSON: {exc}", name) from None
        cookie = f"{self.cookie_name}={value}"
        if len(cookie) > COOKIE_LIMIT:
            raise TinCanError(
                f"the session is {len(cookie)} bytes, more than a cookie holds "
                f"({COOKIE_LIMIT}); keep large data on the server, and its id in the session",
                name,
            )
        return f"{cookie}; Max-Age={self.max_age}{attributes}"


def session_config(settings: Settings, root: str) -> SessionConfig:
    """The sessions of a launch: keys from ``$TINCAN_SECRET_KEY`` or the key file.

    Raises :class:`TinCanError` for a key file that is named but unusable.
    """
    key_file = settings.session_key_file
    path = os.path.join(root, *key_file.split("/")) if key_file else None
    keys, _ = read_keys(path)
    missing = (
        f"this page uses its session, but the webapp has no secret key: set ${SECRET_ENV} "
        f"or key_file in the [session] table of WEB-INF/tincan.toml"
    )
    return SessionConfig(
        codec=SessionCodec(keys) if keys else None,
        cookie_name=settings.session_cookie_name,
        max_age=settings.session_max_age,
        missing_key=missing,
    )


def save_session(environ: dict[str, Any], response: Any, name: str) -> None:
    """Add the ``Set-Cookie`` of the request's session to ``response`` if it changed.

    ``response`` is Bottle's response or a raised ``HTTPResponse`` (a redirect);
    ``name`` is the page, named in the error of a session that cannot be stored.
    """
    session: Session = environ[SESSION_KEY]
    if session.config is None or not session.modified:
        return
    header = session.config.header(session, environ, name)
    if header is not None:
        response.add_header("Set-Cookie", header)
    session.modified = False  # sent once, also when a forward's target saved it


def _cookie_path(environ: dict[str, Any]) -> str:
    """Where the webapp lives: ``SCRIPT_NAME``, then the urlroot, then ``/``. Another
    app on the same host (another urlroot) never gets this session's cookie."""
    app = environ.get("bottle.app")
    config = getattr(app, "config", None)
    urlroot = config.get("tincan.urlroot", "/") if config is not None else "/"
    prefix = (environ.get("SCRIPT_NAME", "") or "").rstrip("/")
    # Percent-encoded, as the browser compares it with the request's raw path: and a
    # ";" could not end the attribute early.
    return (
        quote(prefix, safe="/", encoding="latin-1", errors="replace")
        + quote(str(urlroot).rstrip("/"), safe="/")
        + "/"
    )


def _cookie(header: str, name: str) -> str | None:
    # A small parser: the stdlib's SimpleCookie drops every cookie after one it
    # cannot parse, and other sites on the same host set whatever they like.
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"')
    return None


class Session(MutableMapping[str, Any]):
    """A dict of JSON values; remembers whether it changed, so unchanged sessions
    send no cookie. Mutating a nested value in place is not seen: assign it again."""

    def __init__(
        self,
        data: dict[str, Any],
        *,
        had_cookie: bool = False,
        config: SessionConfig | None = None,
    ) -> None:
        self._data = data
        self.had_cookie = had_cookie
        self.modified = False
        self.config = config

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        self.modified = True

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self.modified = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Session({self._data!r})"

    def clear(self) -> None:
        if self._data:
            self._data.clear()
            self.modified = True

    # -- flash messages ----------------------------------------------------------------
    def flash(self, message: str, category: str = "message") -> None:
        pending = list(self._data.get(FLASHES_KEY, []))
        pending.append([str(message), str(category)])
        self[FLASHES_KEY] = pending

    def flashed(self) -> list[Flash]:
        pending = self._data.get(FLASHES_KEY)
        if not pending:
            return []
        del self[FLASHES_KEY]
        return [
            Flash(str(item[0]), str(item[1]))
            for item in pending
            if isinstance(item, list) and len(item) == 2
        ]
