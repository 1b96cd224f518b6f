"""The code-behind base classes: ``Page`` for routes, ``ErrorPage`` for error pages."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, overload

from ._protocols import ErrorResponse, Request, Response
from ._session import SESSION_KEY, Flash, Session
from ._urls import Query

__all__ = ["BasePage", "ErrorPage", "Page"]

PARAMS_KEY = "tincan.params"  # _app.PARAMS_KEY: the router's values of a #path match


def _class_export_names(cls: type[BasePage]) -> tuple[str, ...]:
    """Names from ``dir(cls)`` that an instance may export, decided once per class.

    Methods, nested classes and other callables of the class are dropped here;
    properties and plain values are kept and checked per instance. The result is
    kept on the class with the class itself, because a subclass inherits the
    attribute but not the answer.
    """
    cached = cls._tincan_export_names
    if cached is not None and cached[0] is cls:
        return cached[1]
    hidden = cls._hidden_names
    kept = []
    for name in dir(cls):
        if name.startswith("_") or name in hidden:
            continue
        static = inspect.getattr_static(cls, name)
        if isinstance(static, _SessionAttribute | _ParamsAttribute):
            continue  # exported only when the page assigned it (see _SessionAttribute)
        if isinstance(static, property) or not callable(getattr(cls, name)):
            kept.append(name)
    names = tuple(kept)
    cls._tincan_export_names = (cls, names)
    return names


class _SessionAttribute:
    """``page.session``: the visitor's session, read on first use.

    It is a dict of JSON values kept in a signed cookie, sent back only when it
    changed; without a secret key using it raises
    :class:`~tincan_core._session.SessionUnavailable` (a logged 500). It is no
    template variable of its own (templates use ``page.session``), so pages
    that do not use it never read a cookie. Code-behind written before sessions
    existed may assign ``self.session`` itself: that plain attribute then wins
    and is exported like any other.
    """

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _SessionAttribute: ...
    @overload
    def __get__(self, instance: Page, owner: type | None = None) -> Session: ...

    def __get__(self, instance: Page | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        own = instance.__dict__.get("session", _NOT_GIVEN)
        if own is not _NOT_GIVEN:
            return own
        environ = instance.request.environ
        session = environ.get(SESSION_KEY)
        if session is None:
            session = instance.request.app.sessions.load(environ)
        return session

    def __set__(self, instance: Page, value: Any) -> None:
        instance.__dict__["session"] = value

    def __delete__(self, instance: Page) -> None:
        instance.__dict__.pop("session", None)


class _ParamsAttribute:
    """``page.params``: the values of the ``#path`` pattern the request matched
    (``{}`` for other URLs), as the router converted them.

    Like ``session`` it is no template variable of its own (templates use
    ``page.params``), and a plain ``self.params`` assigned by code-behind wins
    and is exported like any other attribute.
    """

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _ParamsAttribute: ...
    @overload
    def __get__(self, instance: Page, owner: type | None = None) -> dict[str, Any]: ...

    def __get__(self, instance: Page | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        found = instance.__dict__
        own = found.get("params", _NOT_GIVEN)
        if own is not _NOT_GIVEN:
            return own
        params = found.get("_tincan_params")
        if params is None:
            environ = getattr(instance.request, "environ", None)
            params = environ.get(PARAMS_KEY) if isinstance(environ, dict) else None
            params = found["_tincan_params"] = {} if params is None else params
        return params

    def __set__(self, instance: Page, value: Any) -> None:
        instance.__dict__["params"] = value

    def __delete__(self, instance: Page) -> None:
        instance.__dict__.pop("params", None)


class BasePage:
    """Common base: request logic in :meth:`handle`, template variables from :meth:`export`."""

    # Attribute names never exported as template variables.
    _hidden_names: ClassVar[frozenset[str]] = frozenset()
    # (class, names) cache of _class_export_names: export() runs on every request.
    _tincan_export_names: ClassVar[tuple[type, tuple[str, ...]] | None] = None

    request: Request

    def url_for(self, target: str, /, _query: Query | None = None, **params: Any) -> str:
        """The URL of the page ``target``, for links: ``page.url_for('entry.pspx', id=3)``.

        ``target`` is a page path as ``#forward`` takes it (relative to the
        directory of the page this request is served as, or ``/``-absolute from
        the webapp root); ``params`` fill a ``#path`` form; ``_query`` adds a
        query string. The URL includes ``SCRIPT_NAME`` and the urlroot, and is
        the clean one with ``clean_urls``.
        """
        request = self.request
        return request.app.request_url_for(request.environ, target, _query, params)

    def handle(self) -> Any:
        """Request logic; the default does nothing.

        May set status, headers and cookies on the response, or raise (or return)
        a Bottle ``HTTPResponse`` such as ``bottle.redirect()`` or ``bottle.abort()``.
        """
        return None

    def export(self) -> dict[str, Any]:
        """Template variables: ``page`` (this object) and every public, non-callable,
        non-hidden attribute, as ``dir(self)`` would list them."""
        variables: dict[str, Any] = {"page": self}
        cls = type(self)
        cached = cls._tincan_export_names
        names = cached[1] if cached is not None and cached[0] is cls else _class_export_names(cls)
        for name in names:
            value = getattr(self, name)
            if not callable(value):
                variables[name] = value
        hidden = self._hidden_names
        for name, value in self.__dict__.items():
            if name[:1] != "_" and name not in hidden:
                if callable(value):
                    # A callable attribute is not a variable; ``page`` stays the page.
                    if name == "page":
                        variables["page"] = self
                    else:
                        variables.pop(name, None)
                else:
                    variables[name] = value
        return variables


class _NotGiven:
    """The default of a constructor argument left out (``None`` is a value a test may pass)."""

    def __repr__(self) -> str:
        return "<not given>"


_NOT_GIVEN: Any = _NotGiven()


def _pick(cls: type, ours: tuple[str, Any], original: tuple[str, Any]) -> Any:
    """One constructor argument given by our name or by the 2019 original's, not both."""
    (name, value), (old_name, old_value) = ours, original
    if value is _NOT_GIVEN:
        if old_value is _NOT_GIVEN:
            raise TypeError(f"{cls.__name__}() needs {name!r} (or {old_name!r}, as in TinCan 0.1)")
        return old_value
    if old_value is not _NOT_GIVEN:
        raise TypeError(f"{cls.__name__}() got both {name!r} and {old_name!r}: they are one")
    return value


class Page(BasePage):
    """Code-behind of an ordinary page. Templates reach the request as ``page.request``.

    Construct with ``(request, response)``, positionally or by those names, or
    with the original's names ``req=`` and ``resp=`` (code-behind written for
    TinCan 0.1 calls ``super().__init__(req=req, resp=resp)``).
    """

    _hidden_names = frozenset({"request", "response"})

    request: Request
    response: Response
    session = _SessionAttribute()
    params = _ParamsAttribute()

    def flash(self, message: str, category: str = "message") -> None:
        """Leave ``message`` for the next page this visitor sees (Post/Redirect/Get)."""
        self.session.flash(message, category)

    def flashed(self) -> list[Flash]:
        """The messages left for this visitor, as ``(message, category)``; clears them."""
        return self.session.flashed()

    @overload
    def __init__(self, request: Request, response: Response) -> None: ...
    @overload
    def __init__(self, *, req: Request, resp: Response) -> None: ...
    @overload
    def __init__(self, req: Request, /, *, resp: Response) -> None: ...

    def __init__(
        self,
        request: Any = _NOT_GIVEN,
        response: Any = _NOT_GIVEN,
        *,
        req: Any = _NOT_GIVEN,
        resp: Any = _NOT_GIVEN,
    ) -> None:
        if (
            request is _NOT_GIVEN or response is _NOT_GIVEN
            or req is not _NOT_GIVEN or resp is not _NOT_GIVEN
        ):
            request = _pick(type(self), ("request", request), ("req", req))
            response = _pick(type(self), ("response", response), ("resp", resp))
        self.request = request
        self.response = response


class ErrorPage(BasePage):
    """Code-behind of an error page; templates see ``request`` and ``error``.

    Construct with ``(request, error)``, positionally or by those names, or with
    the original's names ``req=`` and ``err=``.
    """

    request: Request
    error: ErrorResponse

    @overload
    def __init__(self, request: Request, error: ErrorResponse) -> None: ...
    @overload
    def __init__(self, *, req: Request, err: ErrorResponse) -> None: ...
    @overload
    def __init__(self, req: Request, /, *, err: ErrorResponse) -> None: ...

    def __init__(
        self,
        request: Any = _NOT_GIVEN,
        error: Any = _NOT_GIVEN,
        *,
        req: Any = _NOT_GIVEN,
        err: Any = _NOT_GIVEN,
    ) -> None:
        if (
            request is _NOT_GIVEN or error is _NOT_GIVEN
            or req is not _NOT_GIVEN or err is not _NOT_GIVEN
        ):
            request = _pick(type(self), ("request", request), ("req", req))
            error = _pick(type(self), ("error", error), ("err", err))
        self.request = request
        self.error = error
