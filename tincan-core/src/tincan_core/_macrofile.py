"""Reading a ``#load``ed macro file the way Chameleon reads a template file.

The original handed ``.pt`` files to Chameleon's ``PageTemplateFile``, which
decodes the bytes itself: a byte-order mark (UTF-8, UTF-16, UTF-32) wins, then
the ``encoding`` of an XML declaration, then the charset of a ``<meta
http-equiv="Content-Type">`` tag, and only then the launch encoding. The same
reading decides XML or HTML mode. :func:`read_macro_file` uses Chameleon's own
function for it (``chameleon.utils.read_bytes``, which ``PageTemplateFile``
calls), so both always agree; TinCan only turns its errors into ``file:line``.
"""

from __future__ import annotations

import codecs

from chameleon.utils import detect_encoding, read_bytes, read_xml_encoding

from ._errors import TinCanError

__all__ = ["decode_template_bytes", "read_macro_file"]

DEFAULT_CONTENT_TYPE = "text/html"  # Chameleon's page templates, when nothing is declared


def _line_of(data: bytes, offset: int, encoding: str) -> int:
    try:
        before = data[:offset].decode(encoding, "replace")
    except LookupError:
        before = data[:offset].decode("latin-1")
    return before.count("\n") + 1


def _declared(data: bytes, default_encoding: str) -> str:
    """The encoding a file names for itself (XML declaration or meta tag)."""
    return read_xml_encoding(data) or detect_encoding(data, default_encoding)[1]


def decode_template_bytes(
    data: bytes, default_encoding: str, display_name: str
) -> tuple[str, str]:
    """``(text, content type)`` of a template file's bytes, as Chameleon decodes them."""
    try:
        text, _, content_type = read_bytes(data, default_encoding)
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start, exc.encoding)
        raise TinCanError(
            f"cannot decode as {exc.encoding}: {exc.reason}", display_name, line
        ) from None
    except (LookupError, UnicodeError):
        # An encoding the file declares that Python does not have, or that is not
        # a text encoding (base64): the launch encoding itself was checked at launch.
        name = _declared(data, default_encoding)
        at = data.find(name.encode("ascii", "replace"))
        line = _line_of(data, at, default_encoding) if at >= 0 else 1
        try:
            codecs.lookup(name)
            reason = "is not a text encoding"
        except LookupError:
            reason = "is an unknown encoding"
        raise TinCanError(f"declared encoding {name!r} {reason}", display_name, line) from None
    return text, content_type or DEFAULT_CONTENT_TYPE


def read_macro_file(path: str, default_encoding: str, display_name: str) -> tuple[str, str]:
    """``(text, content type)`` of the macro file at ``path``."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (OSError, ValueError) as exc:  # ValueError: a name the OS cannot take
        message = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise TinCanError(f"cannot read: {message}", display_name) from None
    return decode_template_bytes(data, default_encoding, display_name)
