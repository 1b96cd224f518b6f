"""The request policy on its own: forwarded headers, bodies, cross-origin, security headers."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tincan_core._policy import SAFE_METHODS, RequestPolicy
from tincan_core._settings import Settings

UNSAFE = st.sampled_from(["POST", "PUT", "PATCH", "DELETE", "post", "PROPFIND"])
METHODS = st.sampled_from(sorted(SAFE_METHODS)) | UNSAFE


def environ(**extra: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "HTTP_HOST": "127.0.0.1:8080",
        "REMOTE_ADDR": "192.0.2.7",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
    }
    env.update(extra)
    return env


def policy(**settings: Any) -> RequestPolicy:
    return RequestPolicy(Settings(**settings))


# -- cross-origin --------------------------------------------------------------------
@given(METHODS, st.sampled_from(["same-origin", "none", "cross-site", "same-site"]))
def test_fetch_metadata_decides_for_unsafe_methods(method: str, site: str) -> None:
    env = environ(REQUEST_METHOD=method, HTTP_SEC_FETCH_SITE=site)
    refused = policy().refuses_cross_origin(env)
    assert refused == (method.upper() not in SAFE_METHODS and site not in ("same-origin", "none"))


@given(st.sampled_from(["GET", "HEAD", "OPTIONS"]), st.text(max_size=30), st.text(max_size=30))
def test_safe_methods_are_never_refused(method: str, site: str, origin: str) -> None:
    env = environ(REQUEST_METHOD=method, HTTP_SEC_FETCH_SITE=site, HTTP_ORIGIN=origin)
    assert not policy().refuses_cross_origin(env)


@pytest.mark.parametrize(
    ("origin", "host", "refused"),
    [
        ("http://127.0.0.1:8080", "127.0.0.1:8080", False),
        ("https://127.0.0.1:8080", "127.0.0.1:8080", False),  # scheme not compared
        ("http://example.com", "example.com:80", False),  # default port
        ("https://example.com:443", "example.com", False),
        ("http://127.0.0.1:9999", "127.0.0.1:8080", True),
        ("http://evil.example", "127.0.0.1:8080", True),
        ("null", "127.0.0.1:8080", True),
        ("http://EXAMPLE.com", "example.com", False),
        ("ftp://example.com", "example.com", True),
    ],
)
def test_origin_is_checked_without_fetch_metadata(origin: str, host: str, refused: bool) -> None:
    env = environ(REQUEST_METHOD="POST", HTTP_ORIGIN=origin, HTTP_HOST=host)
    assert policy().refuses_cross_origin(env) is refused


def test_neither_header_is_allowed() -> None:
    assert not policy().refuses_cross_origin(environ(REQUEST_METHOD="POST"))


def test_trusted_origins_pass() -> None:
    trusting = policy(trusted_origins=("https://admin.example",))
    for headers in (
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "https://admin.example"},
        {"HTTP_ORIGIN": "https://ADMIN.example/"},
    ):
        assert not trusting.refuses_cross_origin(environ(REQUEST_METHOD="POST", **headers))
    other = {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "https://evil.example"}
    assert trusting.refuses_cross_origin(environ(REQUEST_METHOD="POST", **other))


# -- forwarded headers ---------------------------------------------------------------
FORWARDED = {
    "HTTP_X_FORWARDED_HOST": "evil.example",
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_FOR": "203.0.113.9",
    "HTTP_X_FORWARDED_PREFIX": "/shop",
    "HTTP_FORWARDED": "host=evil.example",
}


@given(st.ip_addresses().map(str))
def test_forwarded_headers_from_a_client_are_dropped(remote: str) -> None:
    env = environ(REMOTE_ADDR=remote, **FORWARDED)
    assert policy(trusted_proxies=("127.0.0.1",)).intake(env) is None or remote == "127.0.0.1"
    if remote != "127.0.0.1":
        assert not any(key in env for key in FORWARDED)
        assert env["HTTP_HOST"] == "127.0.0.1:8080"
        assert env["wsgi.url_scheme"] == "http"
        assert env["REMOTE_ADDR"] == remote


def test_forwarded_headers_from_a_trusted_proxy_are_applied() -> None:
    env = environ(
        REMOTE_ADDR="10.1.2.3",
        HTTP_X_FORWARDED_HOST="shop.example",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9, 10.0.0.5",
        HTTP_X_FORWARDED_PREFIX="/shop/",
    )
    assert policy(trusted_proxies=("10.0.0.0/8",)).intake(env) is None
    assert env["HTTP_HOST"] == "shop.example"
    assert env["wsgi.url_scheme"] == "https"
    # The last address that is not a trusted proxy: what the first proxy saw.
    assert env["REMOTE_ADDR"] == "203.0.113.9"
    assert env["SCRIPT_NAME"] == "/shop"
    assert "HTTP_X_FORWARDED_HOST" not in env  # Bottle must not apply them again
    assert env["tincan.forwarded"]["HTTP_X_FORWARDED_HOST"] == "shop.example"


def test_a_trusted_proxy_cannot_smuggle_a_bad_host() -> None:
    env = environ(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_HOST="a.example/evil path")
    policy(trusted_proxies=("127.0.0.1",)).intake(env)
    assert env["HTTP_HOST"] == "127.0.0.1:8080"


# -- bodies ----------------------------------------------------------------------------
@given(st.text(min_size=1, max_size=12).filter(lambda s: not (s.isascii() and s.isdigit())))
def test_a_malformed_content_length_is_400(length: str) -> None:
    error = policy().intake(environ(REQUEST_METHOD="POST", CONTENT_LENGTH=length))
    assert error is not None and error.status_code == 400


def test_a_body_over_the_limit_is_413_before_reading() -> None:
    stream = io.BytesIO(b"x" * 100)
    env = environ(REQUEST_METHOD="POST", CONTENT_LENGTH="100", **{"wsgi.input": stream})
    error = policy(max_body_size=99).intake(env)
    assert error is not None and error.status_code == 413
    assert stream.tell() == 0
    assert policy(max_body_size=100).intake(environ(CONTENT_LENGTH="100")) is None


@pytest.mark.parametrize(
    "content_type",
    [";;;===", "text", "/plain", "text/plain; charset", "multipart/form-data",
     "text/plain; a=b=c", "a b/c"],
)  # fmt: skip
def test_a_malformed_content_type_is_400(content_type: str) -> None:
    error = policy().intake(environ(REQUEST_METHOD="POST", CONTENT_TYPE=content_type))
    assert error is not None and error.status_code == 400


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain;charset=UTF-8",
     'multipart/form-data; boundary="----x y"', "application/json ; charset=utf-8", ""],
)  # fmt: skip
def test_well_formed_content_types_pass(content_type: str) -> None:
    assert policy().intake(environ(REQUEST_METHOD="POST", CONTENT_TYPE=content_type)) is None


def chunked(body: bytes, sizes: list[int]) -> bytes:
    out, pos = [], 0
    for size in sizes:
        part = body[pos : pos + size]
        if not part:
            break
        out.append(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
        pos += len(part)
    if pos < len(body):
        out.append(b"%X\r\n%s\r\n" % (len(body) - pos, body[pos:]))
    return b"".join(out) + b"0\r\nTrailer: x\r\n\r\n"


@given(st.binary(max_size=3000), st.lists(st.integers(1, 700), max_size=8), st.integers(1, 4000))
def test_chunked_bodies_are_decoded_within_the_limit(
    body: bytes, sizes: list[int], limit: int
) -> None:
    env = environ(
        REQUEST_METHOD="POST",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(chunked(body, sizes))},
    )
    error = policy(max_body_size=limit).intake(env)
    if len(body) > limit:
        assert error is not None and error.status_code == 413
    else:
        assert error is None
        assert env["CONTENT_LENGTH"] == str(len(body))
        assert env["wsgi.input"].read() == body
        assert "HTTP_TRANSFER_ENCODING" not in env


@given(st.binary(max_size=3000), st.integers(1, 4000))
def test_bodies_a_server_already_decoded_are_read_to_the_end(body: bytes, limit: int) -> None:
    env = environ(
        REQUEST_METHOD="POST",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )
    error = policy(max_body_size=limit).intake(env)
    if len(body) > limit:
        assert error is not None and error.status_code == 413
    else:
        assert error is None and env["wsgi.input"].read() == body


@pytest.mark.parametrize(
    "raw", [b"zz\r\nab\r\n0\r\n\r\n", b"5\r\nab", b"2\r\nabXX0\r\n\r\n", b"", b"1" * 40 + b"\r\n"]
)
def test_malformed_chunked_bodies_are_400(raw: bytes) -> None:
    env = environ(
        REQUEST_METHOD="POST", HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": io.BytesIO(raw)}
    )
    error = policy().intake(env)
    assert error is not None and error.status_code == 400


# -- security headers ------------------------------------------------------------------
def test_security_headers_are_added_unless_the_response_set_them() -> None:
    headers = [("Content-Type", "text/html"), ("x-frame-options", "SAMEORIGIN")]
    policy().add_headers(headers)
    names = [name.lower() for name, _ in headers]
    assert names.count("x-frame-options") == 1
    assert dict(headers)["x-frame-options"] == "SAMEORIGIN"
    assert dict(headers)["X-Content-Type-Options"] == "nosniff"
    assert dict(headers)["Referrer-Policy"] == "same-origin"
    assert dict(headers)["Cross-Origin-Opener-Policy"] == "same-origin"


def test_dropped_security_headers_are_not_sent() -> None:
    headers: list[tuple[str, str]] = []
    defaults = dict(Settings().security_headers)
    policy(security_headers={**defaults, "X-Frame-Options": ""}).add_headers(headers)
    assert "X-Frame-Options" not in dict(headers)
    assert "X-Content-Type-Options" in dict(headers)


class _Broken(io.RawIOBase):
    def readline(self, size: int | None = -1) -> bytes:
        raise ConnectionResetError("client went away")

    def read(self, size: int | None = -1) -> bytes:
        raise TimeoutError("stalled")


@pytest.mark.parametrize("terminated", [False, True])
def test_a_body_that_cannot_be_read_is_a_quiet_400(terminated: bool) -> None:
    env = environ(
        REQUEST_METHOD="POST",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": _Broken(), "wsgi.input_terminated": terminated},
    )
    error = policy().intake(env)
    assert error is not None and error.status_code == 400
