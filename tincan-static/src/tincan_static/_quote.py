"""Quoting paths for the action lines (``cp 'a' 'b'``), so every line is one shell word each."""

from __future__ import annotations

__all__ = ["quote_path"]

_ANSI_C_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def quote_path(path: str) -> str:
    """Quote ``path`` the way a POSIX shell reads it back, always in single quotes.

    Names with control characters (a newline would break the one-line-per-action
    promise) use bash's ``$'...'`` form; undecodable bytes show as ``\\xNN``.
    """
    if all(ch.isprintable() and not 0xDC80 <= ord(ch) <= 0xDCFF for ch in path):
        return "'" + path.replace("'", "'\"'\"'") + "'"
    out = []
    for ch in path:
        code = ord(ch)
        if ch in _ANSI_C_ESCAPES:
            out.append(_ANSI_C_ESCAPES[ch])
        elif 0xDC80 <= code <= 0xDCFF:  # a byte os.fsdecode could not decode
            out.append(f"\\x{code - 0xDC00:02x}")
        elif not ch.isprintable():
            # Byte escapes of the UTF-8 encoding read back the same in any locale.
            out.extend(f"\\x{byte:02x}" for byte in ch.encode("utf-8", "surrogatepass"))
        else:
            out.append(ch)
    return "$'" + "".join(out) + "'"
