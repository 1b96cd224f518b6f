"""One side of the differential tests: launches webapps with whatever ``tincan`` this
interpreter imports and answers requests through the WSGI app, in-process.

Run by both interpreters, the original's venv (``TinCanFramework==0.1.1``) and
ours, so it uses nothing but the standard library and ``tincan``'s public API
(``launch``). It speaks JSON lines: one command on stdin, one answer on stdout.

    {"op": "launch", "root": ..., "urlroot": "/", "static": false, "encoding": "utf-8",
     "cwd": null, "setup": null}
    {"op": "request", "method": "GET", "target": "/a%20b.pspx?x=1",
     "headers": [["Accept", "*/*"]], "body": "<base64>"}
    {"op": "eval", "code": "result = ..."}

Each launch replaces the previous webapp: its ``WEB-INF/lib`` entries leave
``sys.path`` and ``sys.modules``, so trees launched one after the other share
nothing. Anything a page prints goes to stderr, never into the answers.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import sys
import traceback
import urllib.parse
from typing import Any

_answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
sys.stdout = sys.stderr  # stray prints from pages must not corrupt the answers


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[list[Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception as exc:  # a bad format string in a log call is still worth seeing
            message = f"{record.msg!r} (unformattable: {exc})"
        self.lines.append([record.levelname, message])


class _State:
    app: Any = None
    root: str | None = None
    records = _Records()
    launches = 0
    namespace: dict[str, Any] = {}


def _forget_previous() -> None:
    """Drop what the previous webapp put into this process."""
    root = _State.root
    _State.app = None
    _State.namespace = {}
    if root is None:
        return
    prefix = os.path.realpath(root) + os.sep
    sys.path[:] = [p for p in sys.path if not os.path.realpath(p).startswith(prefix)]
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and os.path.realpath(file).startswith(prefix):
            del sys.modules[name]
    try:
        import bottle

        bottle.TEMPLATES.clear()
    except ImportError:
        pass


def _launch(command: dict[str, Any]) -> dict[str, Any]:
    _forget_previous()
    import tincan

    _State.launches += 1
    logger = logging.getLogger(f"difftest.launch{_State.launches}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    _State.records = _Records()
    logger.handlers[:] = [_State.records]
    os.chdir(command.get("cwd") or command["root"])
    _State.root = command["root"]
    options = {
        "logger": logger,
        "static": command.get("static", False),
        "encoding": command.get("encoding", "utf-8"),
    }
    if "multithread" in command:
        options["multithread"] = command["multithread"]
    answer: dict[str, Any] = {}
    try:
        app, errors = tincan.launch(command["root"], command.get("urlroot", "/"), **options)
    except Exception:
        answer.update(app=False, errors=None, crash=traceback.format_exc(limit=-3))
    else:
        _State.app = app
        answer.update(app=app is not None, errors=errors, crash=None)
        if app is not None and command.get("setup"):
            _State.namespace = {"app": app, "tincan": tincan, "result": None}
            exec(command["setup"], _State.namespace)
    answer["log"] = _State.records.lines[:]
    return answer


def _environ(command: dict[str, Any]) -> dict[str, Any]:
    path, _, query = command["target"].partition("?")
    body = base64.b64decode(command.get("body") or "")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": command.get("method", "GET"),
        "SCRIPT_NAME": "",
        # What a WSGI server passes: the percent-decoded bytes, as latin-1.
        "PATH_INFO": urllib.parse.unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in command.get("headers") or []:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            environ["HTTP_" + key] = value
    return environ


def _request(command: dict[str, Any]) -> dict[str, Any]:
    app = _State.app
    if app is None:
        return {"error": "no webapp launched"}
    environ = _environ(command)
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started["status"] = status
        started["headers"] = [list(h) for h in headers]
        return chunks.append

    first_log = len(_State.records.lines)
    result = app(environ, start_response)
    try:
        for chunk in result:
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return {
        "status": started.get("status", ""),
        "headers": started.get("headers", []),
        "body": base64.b64encode(b"".join(chunks)).decode("ascii"),
        "log": _State.records.lines[first_log:],
        "wsgi_errors": environ["wsgi.errors"].getvalue(),
    }


def _eval(command: dict[str, Any]) -> dict[str, Any]:
    import tincan

    namespace = _State.namespace or {"app": _State.app, "tincan": tincan}
    namespace["result"] = None
    exec(command["code"], namespace)
    return {"result": namespace["result"]}


_OPS = {"launch": _launch, "request": _request, "eval": _eval}


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        try:
            answer = _OPS[command["op"]](command)
        except Exception:
            answer = {"error": traceback.format_exc()}
        _answers.write(json.dumps(answer) + "\n")
        _answers.flush()


if __name__ == "__main__":
    main()
