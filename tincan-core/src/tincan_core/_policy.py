"""Request and response policy: what every request passes before a page sees it.

One object per app, built at launch from the :class:`~tincan_core._settings.Settings`,
applied in one place of the request path (``TinCan._handle`` and the router):

* forwarded headers (``X-Forwarded-For/Proto/Host/Prefix``; ``-Port`` and
  ``Forwarded`` are dropped) are honoured only
  from configured proxies and dropped from everyone else, so a client cannot
  choose the host of an absolute redirect;
* the request body: a malformed ``Content-Length`` or ``Content-Type`` is a
  400, a body over the maximum size a 413, decided while reading and before
  anything is stored; a chunked body is read here (bounded) so that every WSGI
  server gives pages the same ``request.body``;
* cross-origin protection: an unsafe request that a browser marks as coming
  from another site is a 403 (no tokens: ``Sec-Fetch-Site``, else ``Origin``);
* the security headers every response carries unless it sets its own.
"""

from __future__ import annotations

import io
import ipaddress
import re
import tempfile
from collections.abc import Callable
from typing import IO, Any
from urllib.parse import urlsplit

import bottle

from ._settings import Settings

__all__ = ["CROSS_ORIGIN_ALLOWED", "SAFE_METHODS", "RequestPolicy"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Route config key: the page opted out of cross-origin protection (#allow-cross-origin).
CROSS_ORIGIN_ALLOWED = "tincan.cross_origin_allowed"
_SAME_SITE = frozenset({"same-origin", "none"})
_FORWARDED_KEYS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
    "HTTP_FORWARDED",
)
# type/subtype, then parameters; what a form, a fetch() or curl sends.
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_MEDIA_TYPE = re.compile(rf"\s*{_TOKEN}/{_TOKEN}\s*")
_PARAMETER = re.compile(rf'\s*{_TOKEN}\s*=\s*(?:{_TOKEN}|"(?:[^"\\]|\\.)*")\s*')
_HOST = re.compile(r"[A-Za-z0-9.\-]+(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_IN_MEMORY = 256 * 1024  # larger bodies spill to an anonymous temporary file


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class RequestPolicy:
    """The per-app policy; every method is cheap for a plain GET."""

    def __init__(self, settings: Settings) -> None:
        self.max_body_size = settings.max_body_size
        self.trusted_origins = frozenset(settings.trusted_origins)
        self.proxies = tuple(
            ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies
        )
        self.headers = settings.response_headers()
        self._header_names = frozenset(name.lower() for name, _ in self.headers)
        # (Bottle's key of the name, name, value): a Bottle response holds its headers
        # under bottle._hkey(name), so the ones it set are found without a scan.
        self.keyed_headers = tuple(
            (name.title().replace("_", "-"), name, value) for name, value in self.headers
        )

    # -- before routing --------------------------------------------------------------
    def intake(self, environ: dict[str, Any]) -> bottle.HTTPError | None:
        """Settle forwarded headers and the body; an error to send instead, or ``None``."""
        if not environ.keys().isdisjoint(_FORWARDED_KEYS):
            self._forwarded(environ)
        if "CONTENT_LENGTH" in environ or "HTTP_TRANSFER_ENCODING" in environ:
            try:
                self._body(environ)
            except _Refused as refused:
                return bottle.HTTPError(refused.status, refused.reason)
            except (OSError, ValueError):  # the client went away or stalled mid-body
                return bottle.HTTPError(400, "The request body could not be read.")
        content_type = environ.get("CONTENT_TYPE")
        if content_type and not _well_formed_content_type(content_type):
            return bottle.HTTPError(400, "Malformed Content-Type header.")
        return None

    def _trusted(self, address: str | None) -> bool:
        if not self.proxies or not address:
            return False
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.proxies)

    def _forwarded(self, environ: dict[str, Any]) -> None:
        values = {key: environ.pop(key) for key in _FORWARDED_KEYS if key in environ}
        if not self._trusted(environ.get("REMOTE_ADDR")):
            return  # a client's own claims: dropped, never believed
        environ["tincan.forwarded"] = values
        hops = [h.strip() for h in values.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        # The client is the last address not one of ours: proxies append what they saw.
        while hops and self._trusted(hops[-1]):
            hops.pop()
        if hops:
            environ["REMOTE_ADDR"] = hops[-1]
        proto = _first(values.get("HTTP_X_FORWARDED_PROTO"))
        if proto and proto.lower() in _DEFAULT_PORTS:
            environ["wsgi.url_scheme"] = proto.lower()
        host = _first(values.get("HTTP_X_FORWARDED_HOST"))
        if host and _HOST.fullmatch(host):
            environ["HTTP_HOST"] = host
        prefix = _first(values.get("HTTP_X_FORWARDED_PREFIX"))
        if prefix and prefix.startswith("/"):
            environ["SCRIPT_NAME"] = prefix.rstrip("/") + environ.get("SCRIPT_NAME", "")

    def _body(self, environ: dict[str, Any]) -> None:
        length = environ.get("CONTENT_LENGTH", "")
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if length and not chunked:
            if not (length.isascii() and length.isdigit()):
                raise _Refused(400, "Malformed Content-Length header.")
            if int(length) > self.max_body_size:
                raise _Refused(413, "Request body too large.")
            return
        if not chunked:
            return
        stream = environ.get("wsgi.input")
        if stream is None:
            raise _Refused(400, "Chunked request without a body.")
        if environ.get("wsgi.input_terminated"):
            # The server already decoded the chunks: read to the end of the input.
            body = _read_to_end(stream.read, self.max_body_size)
        else:
            body = _read_chunked(stream, self.max_body_size)
        body.seek(0, io.SEEK_END)
        environ["CONTENT_LENGTH"] = str(body.tell())
        body.seek(0)
        environ["wsgi.input"] = body
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = True

    # -- after routing ---------------------------------------------------------------
    def refuses_route(self, environ: dict[str, Any], method: str, config: Any) -> bool:
        """Whether the request (its ``method`` upper-cased) may not reach the route whose
        config is ``config``: an unsafe method a browser sent from another origin, to a
        page that did not opt out. Both request paths of the app ask this."""
        return (
            method not in SAFE_METHODS
            and self.refuses_cross_origin(environ)
            and not config.get(CROSS_ORIGIN_ALLOWED)
        )

    def refuses_cross_origin(self, environ: dict[str, Any]) -> bool:
        """Whether an unsafe request comes, by its browser's word, from another origin."""
        if environ.get("REQUEST_METHOD", "GET").upper() in SAFE_METHODS:
            return False
        site = environ.get("HTTP_SEC_FETCH_SITE")
        origin = environ.get("HTTP_ORIGIN")
        if site is not None:
            if site.strip().lower() in _SAME_SITE:
                return False
            return not self._trusted_origin(origin)
        if origin is None:
            return False  # neither header: not a browser, or a same-origin request
        if _same_host(origin, environ):
            return False
        return not self._trusted_origin(origin)

    def _trusted_origin(self, origin: str | None) -> bool:
        return origin is not None and origin.strip().lower().rstrip("/") in self.trusted_origins

    # -- responses --------------------------------------------------------------------
    def add_headers(
        self, headers: list[tuple[str, str]], fields: dict[str, Any] | None = None
    ) -> None:
        """Add the security headers the response did not set itself.

        ``fields``, when given, are the headers of the Bottle response that
        ``headers`` were made from (keyed as ``bottle._hkey`` keys them), which
        answers the question without a scan of ``headers``.
        """
        if not self.headers:
            return
        if fields is not None:
            for key, name, value in self.keyed_headers:
                if key not in fields:
                    headers.append((name, value))
            return
        present = {name.lower() for name, _ in headers} & self._header_names
        for name, value in self.headers:
            if name.lower() not in present:
                headers.append((name, value))

    def wrap_start_response(self, start_response: Callable[..., Any]) -> Callable[..., Any]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self.add_headers(headers)
            return start_response(status, headers, exc_info)

        return start


def _first(value: str | None) -> str | None:
    if value is None:
        return None
    return value.split(",", 1)[0].strip() or None


def _well_formed_content_type(value: str) -> bool:
    media, *parameters = value.split(";")
    if not _MEDIA_TYPE.fullmatch(media):
        return False
    if not all(_PARAMETER.fullmatch(p) for p in parameters if p.strip()):
        return False
    if media.strip().lower().startswith("multipart/"):
        return any(p.split("=", 1)[0].strip().lower() == "boundary" for p in parameters)
    return True


def _same_host(origin: str, environ: dict[str, Any]) -> bool:
    """Whether ``Origin`` names the host (and port) this request was sent to.

    The scheme is not compared: behind a TLS-terminating proxy that is not
    configured as trusted, the request looks like plain HTTP. Browsers that send
    ``Origin`` also send ``Sec-Fetch-Site``, which is checked first.
    """
    try:
        parts = urlsplit(origin.strip())
        scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    except ValueError:
        return False
    if not netloc or scheme not in _DEFAULT_PORTS:
        return False
    host = environ.get("HTTP_HOST")
    if not host:
        host = environ.get("SERVER_NAME", "")
        port = environ.get("SERVER_PORT")
        if port:
            host = f"{host}:{port}"
    return _without_default_port(netloc, scheme) == _without_default_port(host.lower(), scheme)


def _without_default_port(netloc: str, scheme: str) -> str:
    default = ":" + _DEFAULT_PORTS[scheme]
    return netloc[: -len(default)] if netloc.endswith(default) else netloc


def _spool() -> IO[bytes]:
    # An anonymous file (unlinked at once on POSIX): nothing is left behind.
    return tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)


def _read_to_end(read: Callable[[int], bytes], limit: int) -> IO[bytes]:
    body = _spool()
    size = 0
    while True:
        part = read(min(64 * 1024, limit + 1 - size))
        if not part:
            return body
        size += len(part)
        if size > limit:
            body.close()
            raise _Refused(413, "Request body too large.")
        body.write(part)


def _read_chunked(stream: Any, limit: int) -> IO[bytes]:
    """Decode a chunked body (RFC 9112 §7.1), refusing it as soon as it passes ``limit``."""
    body = _spool()
    size = 0
    try:
        while True:
            line = stream.readline(1026)
            if not line.endswith(b"\n"):
                raise _Refused(400, "Malformed chunked request body.")
            digits = line.split(b";", 1)[0].strip()
            if not digits or len(digits) > 16 or not re.fullmatch(rb"[0-9A-Fa-f]+", digits):
                raise _Refused(400, "Malformed chunked request body.")
            chunk = int(digits, 16)
            if chunk == 0:
                _skip_trailers(stream)
                return body
            size += chunk
            if size > limit:
                raise _Refused(413, "Request body too large.")
            left = chunk
            while left:
                part = stream.read(min(left, 64 * 1024))
                if not part:
                    raise _Refused(400, "Malformed chunked request body.")
                body.write(part)
                left -= len(part)
            if stream.readline(3).strip():
                raise _Refused(400, "Malformed chunked request body.")
    except BaseException:
        body.close()
        raise


def _skip_trailers(stream: Any) -> None:
    for _ in range(100):
        line = stream.readline(8192)
        if not line.strip():
            return
    raise _Refused(400, "Too many trailer fields.")
