"""Rendering a launched page template with less per-request work than ``render()``.

Chameleon's ``PageTemplate.render`` does, for every call, what a launch can settle
once: it looks up the template's translate function and encoding, builds the
helper closures for them, and resolves every name the template reads through
:class:`chameleon.utils.Scope`, whose ``get_name`` is two Python calls per name
read. :func:`fast_render` gives a function that renders exactly what
``template.render(**variables)`` renders, with

* the per-template parts decided when the page's route is built, and
* a scope whose ``get_name`` is the dict lookup itself (a name missing from a
  nested scope is still looked up in the root scope, and a name found nowhere is
  still a ``NameError``), which is most of what a template spends reading names.

It relies on how Chameleon runs a compiled program, so it is used only with the
releases it was checked against (:data:`SUPPORTED`, 4.6.x); any other one, or a
template class that changes how it renders, keeps ``template.render``. Failures
are reported as Chameleon reports them (the template, line and expression).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import Any

from chameleon import PageTemplate
from chameleon.exc import ExceptionFormatter, RenderError
from chameleon.template import BaseTemplate
from chameleon.utils import Scope, create_formatted_exception, raise_with_traceback

from . import _repeat

__all__ = ["SUPPORTED", "FastScope", "fast_render", "supported_version"]

# Chameleon releases whose program calling convention this module was checked
# against (the tests render through it and through render() alike); a release
# outside them renders through Chameleon's own render().
SUPPORTED = ((4, 6), (4, 7))  # from (inclusive), to (exclusive)

_MISSING: Any = object()
_dict_getitem = dict.__getitem__
_dict_get = dict.get
_dict_items = dict.items


class FastScope(Scope):
    """A :class:`~chameleon.utils.Scope` that answers ``get_name`` in C for the
    names it holds; the rest of its behaviour is Scope's own."""

    __slots__ = ()

    def __missing__(self, key: str) -> Any:
        # dict.__getitem__ calls this for a name the scope itself does not hold.
        root = getattr(self, "_root", _MISSING)
        if root is not _MISSING:
            value = _dict_get(root, key, _MISSING)
            if value is not _MISSING:
                return value
        raise NameError(key)

    def __getitem__(self, key: str) -> Any:
        # Scope's own lookup (KeyError for a name found nowhere), in one call.
        value = _dict_get(self, key, _MISSING)
        if value is _MISSING:
            root = getattr(self, "_root", _MISSING)
            if root is not _MISSING:
                value = _dict_get(root, key, _MISSING)
            if value is _MISSING:
                raise KeyError(key)
        return value

    @property
    def get_name(self) -> Callable[[str], Any]:
        # Programs bind it once per function: ``getname = econtext.get_name``.
        getter: Callable[[str], Any] = _dict_getitem.__get__(self)
        return getter

    @property
    def get(self) -> Callable[..., Any]:
        # A scope without a root holds every name it knows: dict.get is Scope.get then.
        if getattr(self, "_root", _MISSING) is _MISSING:
            getter: Callable[..., Any] = _dict_get.__get__(self)
            return getter
        bound: Callable[..., Any] = Scope.get.__get__(self)
        return bound

    def copy(self) -> FastScope:
        # From the items view: a dict built from a dict subclass that defines
        # __iter__ (Scope does) calls __getitem__ in Python once a key; the view
        # gives the same own items in C.
        scope = FastScope(_dict_items(self))
        scope._root = getattr(self, "_root", self)  # type: ignore[attr-defined]
        return scope


def supported_version(version: str | None = None) -> bool:
    """Whether the installed Chameleon (or ``version``) is one :data:`SUPPORTED` covers."""
    if version is None:
        try:
            version = importlib.metadata.version("chameleon")
        except importlib.metadata.PackageNotFoundError:
            return False
    try:
        numbers = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        return False
    low, high = SUPPORTED
    return low <= numbers < high


_ENABLED = supported_version()


def _renders_as_chameleon_4(template: Any) -> bool:
    """Whether ``template`` renders the way :func:`fast_render` reproduces.

    Its ``cook_check`` must be Chameleon's (a check, no reloading), or a class
    must declare ``tincan_cooks_once``: its ``cook_check`` cooks a deferred body
    once, at the first render, and the template never changes after that.
    """
    cls = type(template)
    cooks_once = getattr(cls, "tincan_cooks_once", False)
    if not (
        isinstance(template, PageTemplate)
        and cls.render is PageTemplate.render
        and cls.output_stream_factory is list
        and (cooks_once or cls.cook_check is BaseTemplate.cook_check)  # no reload check
    ):
        return False
    if not getattr(template, "_cooked", False):
        return bool(cooks_once)  # cooked by its first render
    return callable(getattr(template, "_render", None))


def fast_render(render: Callable[..., str]) -> Callable[..., str]:
    """A function equivalent to ``render`` (a page template's bound ``render``), or
    ``render`` itself when this module cannot vouch for the equivalence."""
    template = getattr(render, "__self__", None)
    if template is None or getattr(render, "__func__", None) is not PageTemplate.render:
        return render
    if not _ENABLED or not _renders_as_chameleon_4(template):
        return render

    # None until a deferred template is cooked, at its first render.
    program: Callable[..., None] | None = template.__dict__.get("_render")
    own_translate = template.translate
    if own_translate is None:
        own_translate = type(template).translate
    own_encoding = template.encoding
    on_error = template.on_error_handler
    value_repr = template.value_repr

    def helpers(translate: Any, encoding: str | None) -> tuple[Any, Any]:
        # What PageTemplate.render builds for an encoding: byte strings are decoded
        # with it, messages too.
        if encoding is None:
            return translate, bytes.decode

        def translate_bytes(
            msgid: str | bytes, txl: Any = translate, encoding: str = encoding, **kwargs: Any
        ) -> Any:
            if isinstance(msgid, bytes):
                msgid = bytes.decode(msgid, encoding)
            return txl(msgid, **kwargs)

        def decode(inst: bytes, encoding: str = encoding) -> str:
            return bytes.decode(inst, encoding, "ignore")

        return translate_bytes, decode

    default_translate, default_decode = helpers(own_translate, own_encoding)

    def render_fast(encoding: str | None = None, **variables: Any) -> str:
        nonlocal program
        if program is None:
            template.cook_check()
            program = template._render
        translate = variables.get("translate")
        if translate is None and encoding is None:
            translate, decode = default_translate, default_decode
        else:
            translate, decode = helpers(
                own_translate if translate is None else translate,
                own_encoding if encoding is None else encoding,
            )
        setdefault = variables.setdefault
        setdefault("__translate", translate)
        setdefault("__decode", decode)
        setdefault("__on_error_handler", on_error)
        target_language = setdefault("target_language", None)
        if "repeat" not in variables:
            variables["repeat"] = _repeat.RepeatDict({})
        econtext = FastScope(variables)
        rcontext: dict[str, Any] = {}
        stream: list[str] = []
        try:
            program(stream, econtext, rcontext, target_language=target_language)
        except RecursionError:
            raise
        except BaseException as exc:
            errors = rcontext.get("__error__")
            if not errors:
                raise
            formatted = _formatted(exc, errors, econtext, rcontext, value_repr)
            if formatted is None:
                raise
            raise_with_traceback(formatted, exc.__traceback__)
        return "".join(stream)

    return render_fast


def _formatted(
    exc: BaseException, errors: list[Any], econtext: Scope, rcontext: dict[str, Any],
    value_repr: Any,
) -> BaseException | None:  # fmt: skip
    """The exception ``template.render`` would raise for ``exc``: one that carries the
    template positions Chameleon recorded, or ``None`` to raise ``exc`` as it is."""
    formatter = exc.__str__
    if isinstance(formatter, ExceptionFormatter):
        if errors is not formatter._errors:
            formatter._errors.extend(errors)
        return None
    formatter = ExceptionFormatter(errors, econtext, rcontext, value_repr)
    try:
        formatted: BaseException = create_formatted_exception(
            exc, type(exc), formatter, RenderError
        )
    except TypeError:
        return None
    return formatted
