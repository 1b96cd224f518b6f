"""Forms in a response, filled in and submitted the way a browser would.

:func:`find_form` parses the response's HTML (the standard library's
``html.parser``) and gives a :class:`Form`: its fields with their initial
values, which a test changes by name, and :meth:`Form.submit`, which sends
what a browser would send for it (HTML's form data set: enabled, named,
checked or selected controls, in document order) with the form's method,
action and encoding.
"""

from __future__ import annotations

import html.parser
import secrets
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["Field", "Form", "find_form", "forms"]

_TEXTLIKE_DEFAULT = "text"
_BUTTONS = {"submit", "image"}
_IGNORED = {"reset", "button"}
_MULTIPART = "multipart/form-data"
_URLENCODED = "application/x-www-form-urlencoded"

FileValue = tuple[str, bytes] | tuple[str, bytes, str]  # name, content[, content type]


@dataclass
class Option:
    value: str
    selected: bool
    disabled: bool


@dataclass
class Field:
    """One control of a form, as written in the page and changed by the test."""

    tag: str  # input, select, textarea, button
    kind: str  # the input type (text, checkbox, radio, file, submit, ...); select; textarea
    name: str
    value: str = ""
    checked: bool = False
    disabled: bool = False
    multiple: bool = False
    options: list[Option] = field(default_factory=list)
    file: FileValue | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    order: int = 0  # position in the page

    @property
    def is_button(self) -> bool:
        return self.kind in _BUTTONS

    def selected(self) -> list[str]:
        chosen = [o.value for o in self.options if o.selected and not o.disabled]
        if not chosen and not self.multiple:
            first = next((o.value for o in self.options if not o.disabled), None)
            return [] if first is None else [first]
        return chosen if self.multiple else chosen[-1:]


class _FormParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[dict[str, str], list[Field]]] = []
        self.owned: list[tuple[str, Field]] = []  # controls with a form="id" attribute
        self._current: list[Field] | None = None
        self._text: list[str] | None = None  # text of the open textarea or option
        self._select: Field | None = None
        self._option: dict[str, str] | None = None
        self._textarea: Field | None = None

    def _add(self, attrs: dict[str, str], control: Field) -> None:
        control.order = len(self.owned) + sum(len(fields) for _, fields in self.forms)
        owner = attrs.get("form")
        if owner is not None:
            self.owned.append((owner, control))
        elif self._current is not None:
            self._current.append(control)

    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v if v is not None else "" for k, v in attr_list}
        if tag == "form":
            self._current = []
            self.forms.append((attrs, self._current))
        elif tag == "input":
            kind = attrs.get("type", _TEXTLIKE_DEFAULT).lower() or _TEXTLIKE_DEFAULT
            if kind in _IGNORED:
                return
            default = "on" if kind in ("checkbox", "radio") else ""
            self._add(attrs, Field(
                "input", kind, attrs.get("name", ""), attrs.get("value", default),
                checked="checked" in attrs, disabled="disabled" in attrs, attrs=attrs,
            ))
        elif tag == "button":
            kind = attrs.get("type", "submit").lower() or "submit"
            if kind == "submit":
                self._add(attrs, Field(
                    "button", "submit", attrs.get("name", ""), attrs.get("value", ""),
                    disabled="disabled" in attrs, attrs=attrs,
                ))
        elif tag == "select":
            self._select = Field(
                "select", "select", attrs.get("name", ""), disabled="disabled" in attrs,
                multiple="multiple" in attrs, attrs=attrs,
            )
            self._add(attrs, self._select)
        elif tag == "option" and self._select is not None:
            self._end_option()
            self._option, self._text = attrs, []
        elif tag == "textarea":
            self._textarea = Field(
                "textarea", "textarea", attrs.get("name", ""), disabled="disabled" in attrs,
                attrs=attrs,
            )
            self._add(attrs, self._textarea)
            self._text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("option", "textarea", "select"):
            self.handle_endtag(tag)

    def _end_option(self) -> None:
        if self._option is not None and self._select is not None:
            text = " ".join("".join(self._text or []).split())
            self._select.options.append(Option(
                self._option.get("value", text), "selected" in self._option,
                "disabled" in self._option,
            ))
        self._option, self._text = None, None

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        elif tag == "option":
            self._end_option()
        elif tag == "select":
            self._end_option()
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text or [])
            # HTML drops one newline right after the start tag
            self._textarea.value = text[1:] if text.startswith("\n") else text
            self._textarea, self._text = None, None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def _describe(attrs: dict[str, str], index: int) -> str:
    if "id" in attrs:
        return f"#{attrs['id']}"
    if "name" in attrs:
        return f"name={attrs['name']!r}"
    return f"[{index}]"


class Form:
    """A form of a response: fill it in by field name, then :meth:`submit` it.

    ``form["name"] = "Ada"`` sets a text field, textarea or hidden field;
    ``form["agree"] = True`` checks a checkbox (``False`` unchecks it);
    ``form["colour"] = "red"`` checks that radio button or selects that option;
    a list sets a multiple select or a group of checkboxes of one name;
    ``form["photo"] = ("me.png", data)`` gives a file input its file. Values
    that the page does not offer (an option or radio value it lacks) are
    refused, as a browser would not send them.
    """

    def __init__(self, attrs: dict[str, str], fields: list[Field], page_url: httpx.URL) -> None:
        self.attrs = attrs
        self.fields = fields
        self.page_url = page_url
        self.id: str | None = attrs.get("id")
        self.name: str | None = attrs.get("name")

    # -- what it is ----------------------------------------------------------------------
    @property
    def method(self) -> str:
        method = self.attrs.get("method", "get").strip().upper()
        return method if method == "POST" else "GET"

    @property
    def action(self) -> httpx.URL:
        """Where the form goes: its ``action`` resolved against the page's URL."""
        return self.page_url.join(self.attrs.get("action", "").strip() or str(self.page_url))

    @property
    def enctype(self) -> str:
        enctype = self.attrs.get("enctype", _URLENCODED).strip().lower()
        return _MULTIPART if enctype == _MULTIPART else _URLENCODED

    def names(self) -> list[str]:
        """The names of the form's fields (buttons included), each once, in page order."""
        return list(dict.fromkeys(f.name for f in self.fields if f.name))

    def _named(self, name: str) -> list[Field]:
        found = [f for f in self.fields if f.name == name and not f.is_button]
        if not found:
            known = ", ".join(n for n in self.names()) or "none"
            raise KeyError(f"form {self}: no field named {name!r} (fields: {known})")
        return found

    # -- reading and filling in ----------------------------------------------------------
    def __getitem__(self, name: str) -> str | None:
        """The value the field would send (the last one, for several); ``None`` if none."""
        values = self.getall(name)
        return values[-1] if values else None

    def getall(self, name: str) -> list[str]:
        """Every value sent under ``name`` as the form stands (checked boxes, selected options)."""
        values: list[str] = []
        for control in self._named(name):
            if control.kind in ("checkbox", "radio"):
                if control.checked:
                    values.append(control.value)
            elif control.kind == "select":
                values += control.selected()
            elif control.kind == "file":
                values.append(control.file[0] if control.file else "")
            else:
                values.append(control.value)
        return values

    def __setitem__(self, name: str, value: Any) -> None:
        self.set(name, value)

    def set(self, name: str, value: Any, index: int | None = None) -> None:
        """Set the field(s) called ``name``; ``index`` picks one of several text fields
        of that name (in page order)."""
        controls = self._named(name)
        if index is not None:
            controls = [controls[index]]
        for control in controls:
            if control.disabled:
                raise ValueError(f"form {self}: field {name!r} is disabled")
        kind = controls[0].kind
        if kind == "checkbox":
            self._check(name, controls, value)
        elif kind == "radio":
            self._choose(name, controls, value)
        elif kind == "select":
            self._select(name, controls[0], value)
        elif kind == "file":
            if value is not None and not (isinstance(value, tuple) and len(value) in (2, 3)):
                raise TypeError(f"form {self}: file field {name!r} takes (filename, bytes)")
            controls[0].file = value
        elif isinstance(value, (list, tuple)):
            if len(value) != len(controls):
                raise ValueError(
                    f"form {self}: {len(value)} values for the {len(controls)} fields {name!r}"
                )
            for control, one in zip(controls, value, strict=True):
                control.value = str(one)
        else:
            if len(controls) > 1 and index is None:
                raise ValueError(
                    f"form {self}: {len(controls)} fields are named {name!r}; "
                    f"give a list of values or form.set({name!r}, value, index=...)"
                )
            controls[0].value = str(value)

    def _check(self, name: str, boxes: list[Field], value: Any) -> None:
        if isinstance(value, bool):
            if len(boxes) > 1:
                raise ValueError(
                    f"form {self}: {len(boxes)} checkboxes are named {name!r}; "
                    "give the values to check (a list)"
                )
            boxes[0].checked = value
            return
        wanted = {str(v) for v in (value if isinstance(value, (list, tuple, set)) else [value])}
        offered = {box.value for box in boxes}
        if wanted - offered:
            raise ValueError(
                f"form {self}: checkbox {name!r} has no value {sorted(wanted - offered)} "
                f"(offered: {sorted(offered)})"
            )
        for box in boxes:
            box.checked = box.value in wanted

    def _choose(self, name: str, radios: list[Field], value: Any) -> None:
        if value is None:
            for radio in radios:
                radio.checked = False
            return
        offered = [radio.value for radio in radios]
        if str(value) not in offered:
            raise ValueError(f"form {self}: radio {name!r} has no value {value!r} "
                             f"(offered: {offered})")
        for radio in radios:
            radio.checked = radio.value == str(value)

    def _select(self, name: str, select: Field, value: Any) -> None:
        wanted = [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        if len(wanted) > 1 and not select.multiple:
            raise ValueError(f"form {self}: select {name!r} takes one value")
        offered = [o.value for o in select.options if not o.disabled]
        missing = [v for v in wanted if v not in offered]
        if missing:
            raise ValueError(
                f"form {self}: select {name!r} has no option {missing} (offered: {offered})"
            )
        for option in select.options:
            option.selected = option.value in wanted

    # -- sending -------------------------------------------------------------------------
    def _submitter(self, button: str | None, value: str | None) -> Field | None:
        if button is None:
            return None
        found = [f for f in self.fields if f.is_button and f.name == button
                 and (value is None or f.value == value)]
        if not found:
            buttons = [f"{f.name}={f.value}" for f in self.fields if f.is_button and f.name]
            raise KeyError(f"form {self}: no submit button {button!r}"
                           + (f" with value {value!r}" if value is not None else "")
                           + f" (buttons: {', '.join(buttons) or 'none'})")
        if found[0].disabled:
            raise ValueError(f"form {self}: submit button {button!r} is disabled")
        return found[0]

    def data(
        self, button: str | None = None, *, value: str | None = None
    ) -> list[tuple[str, str | FileValue]]:
        """What submitting the form sends, in page order (files as ``(filename, bytes)``)."""
        submitter = self._submitter(button, value)
        pairs: list[tuple[str, str | FileValue]] = []
        for control in self.fields:
            if control.disabled or not control.name:
                continue
            if control.is_button:
                if control is submitter:
                    if control.kind == "image":
                        pairs += [(f"{control.name}.x", "0"), (f"{control.name}.y", "0")]
                    else:
                        pairs.append((control.name, control.value))
            elif control.kind in ("checkbox", "radio"):
                if control.checked:
                    pairs.append((control.name, control.value))
            elif control.kind == "select":
                pairs += [(control.name, chosen) for chosen in control.selected()]
            elif control.kind == "file":
                pairs.append((control.name, control.file or ("", b"")))
            else:
                pairs.append((control.name, control.value))
        return pairs

    def submit(
        self,
        client: httpx.Client,
        button: str | None = None,
        *,
        value: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send the form with ``client``: its method to its action, encoded as its
        ``enctype`` says, pressing the submit button ``button`` (by name; ``value``
        picks one of several buttons of that name) if given, whose ``formaction``,
        ``formmethod`` and ``formenctype`` then apply. Like a browser it sends a
        ``Referer`` (the page) and, for a POST, an ``Origin``. Other keyword
        arguments go to ``client.request``."""
        submitter = self._submitter(button, value)
        extra = submitter.attrs if submitter is not None else {}
        method = extra.get("formmethod", self.attrs.get("method", "get")).strip().upper()
        method = "POST" if method == "POST" else "GET"
        action = self.page_url.join(extra.get("formaction", "").strip() or str(self.action))
        enctype = extra.get("formenctype", self.attrs.get("enctype", _URLENCODED)).strip().lower()
        pairs = self.data(button, value=value)
        fields = [(k, v if isinstance(v, str) else v[0]) for k, v in pairs]
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Referer", str(self.page_url))
        if method == "GET":
            query = urllib.parse.urlencode(fields).encode("ascii")
            return client.request("GET", action.copy_with(query=query or None),
                                  headers=headers, **kwargs)
        origin = f"{self.page_url.scheme}://{self.page_url.netloc.decode('ascii')}"
        headers.setdefault("Origin", origin)
        if enctype == _MULTIPART:
            body, content_type = _multipart(pairs)
        else:
            body = urllib.parse.urlencode(fields).encode("ascii")
            content_type = _URLENCODED
        headers["Content-Type"] = content_type
        return client.request("POST", action, content=body, headers=headers, **kwargs)

    def __str__(self) -> str:
        if self.id:
            return f"#{self.id}"
        return f"name={self.name!r}" if self.name else "(no id)"

    def __repr__(self) -> str:
        return f"<Form {self} {self.method} {self.action} fields={self.names()}>"


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _multipart(pairs: Sequence[tuple[str, str | FileValue]]) -> tuple[bytes, str]:
    boundary = "tincan-" + secrets.token_hex(12)
    chunks: list[bytes] = []
    for name, value in pairs:
        chunks.append(f"--{boundary}\r\n".encode("ascii"))
        if isinstance(value, str):
            chunks.append(f'Content-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'
                          .encode())
            chunks.append(value.encode("utf-8"))
        else:
            filename, content = value[0], value[1]
            content_type = value[2] if len(value) == 3 else "application/octet-stream"
            chunks.append(
                f'Content-Disposition: form-data; name="{_quoted(name)}"; '
                f'filename="{_quoted(filename)}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            )
            chunks.append(content)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode("ascii"))
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def forms(response: httpx.Response) -> list[Form]:
    """Every form of the response's HTML, in page order."""
    parser = _FormParser()
    parser.feed(response.text)
    parser.close()
    try:
        page_url = response.request.url
    except RuntimeError:  # a response built by hand
        page_url = httpx.URL("http://testserver/")
    found = [Form(attrs, fields, page_url) for attrs, fields in parser.forms]
    by_id = {form.id: form for form in found if form.id}
    for owner, control in parser.owned:
        if owner in by_id:
            by_id[owner].fields.append(control)
    for form in found:
        form.fields.sort(key=lambda control: control.order)
    return found


def find_form(response: httpx.Response, which: str | int | None = None) -> Form:
    """The form of ``response`` with id ``which`` (or, failing that, name), the form at
    index ``which``, or with ``None`` the only form of the page."""
    __tracebackhide__ = True
    found = forms(response)
    listed = ", ".join(_describe(f.attrs, i) for i, f in enumerate(found)) or "none"
    if which is None:
        if len(found) != 1:
            raise AssertionError(
                f"the page has {len(found)} forms ({listed}): say which, by id or index"
            )
        return found[0]
    if isinstance(which, int):
        if not -len(found) <= which < len(found):
            raise AssertionError(f"the page has {len(found)} form(s) ({listed}), no [{which}]")
        return found[which]
    for form in _matching(found, which):
        return form
    raise AssertionError(f"the page has no form with id {which!r} (forms: {listed})")


def _matching(found: Iterable[Form], which: str) -> Iterable[Form]:
    found = list(found)
    yield from (f for f in found if f.id == which)
    yield from (f for f in found if f.name == which)
