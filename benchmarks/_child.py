"""What the benchmark runs in fresh subprocesses; each mode prints one JSON line.

    python benchmarks/_child.py launch DIR          launch() the tree, time it, serve every
                                                    page once, peak RSS
    python benchmarks/_child.py compile DIR         compile_webapp() the tree, time it
    python benchmarks/_child.py serve SIDE DIR [SERVER PORT]
                                                    serve "ours", "reference" (hand-written
                                                    Bottle), "flask" or "prebuilt" (the page's
                                                    bytes, made once) with SERVER: waitress
                                                    (default), gunicorn (sync, 2 workers) or
                                                    builtin (TinCan's own server)

A fresh interpreter per launch keeps one measurement from warming the next
(imports, Chameleon's in-memory state, the peak RSS high-water mark).
"""

from __future__ import annotations

import dataclasses
import json
import resource
import sys
import time
from typing import Any


def _peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # Linux reports KiB


def _cpu_seconds() -> float:
    """CPU time of this process and of the workers it waited for (compile processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def _as_dict(stats: Any) -> dict[str, Any] | None:
    if dataclasses.is_dataclass(stats) and not isinstance(stats, type):
        return dataclasses.asdict(stats)
    return None


def _emit(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def _serve_every_page(app: Any, root: str) -> int:
    """GET every page of the tree once, in-process; the number that did not answer 200."""
    import os

    from _timing import call, make_environ

    failed = 0
    for directory, _, names in os.walk(root):
        for name in names:
            if not name.endswith(".pspx") or "WEB-INF" in directory:
                continue
            path = "/" + os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/")
            failed += not call(app, make_environ(path)).status.startswith("200")
    return failed


def launch_tree(root: str) -> None:
    """Launch the tree; then serve every page once, as a server that has run a while has.

    The peak RSS is taken after that: a launch from the cache loads each page's
    program at its first render, so right after the launch is not what a running
    server holds (``launch_peak_rss_bytes`` is that)."""
    started = time.perf_counter()
    import tincan_core

    imported = time.perf_counter()
    cpu_before = _cpu_seconds()
    app, errors = tincan_core.launch(root)
    launched = time.perf_counter()
    cpu_used = _cpu_seconds() - cpu_before
    stats = app.config.get("tincan.stats") if app is not None else None
    launch_peak = _peak_rss_bytes()
    failed = _serve_every_page(app, root) if app is not None else 0
    _emit(
        {
            "import_seconds": imported - started,
            "launch_seconds": launched - imported,
            "launch_cpu_seconds": cpu_used,
            "serve_every_page_seconds": time.perf_counter() - launched,
            "errors": errors + failed,
            "routes": len(app.routes) if app is not None else 0,
            "launch_peak_rss_bytes": launch_peak,
            "peak_rss_bytes": _peak_rss_bytes(),
            "stats": _as_dict(stats),
        }
    )


def compile_tree(root: str) -> None:
    import tincan_core

    started = time.perf_counter()
    cpu_before = _cpu_seconds()
    result = tincan_core.compile_webapp(root)
    _emit(
        {
            "compile_seconds": time.perf_counter() - started,
            "compile_cpu_seconds": _cpu_seconds() - cpu_before,
            "errors": len(result.errors),
        }
    )


def _app(side: str, root: str) -> Any:
    if side == "ours":
        import tincan_core

        app, errors = tincan_core.launch(root, static=True)
        if app is None or errors:
            sys.exit(f"launch of {root} found {errors} error(s)")
        return app
    if side == "flask":
        from _flask import flask_app

        return flask_app(root)
    if side == "prebuilt":
        return _prebuilt_app(root)
    from _apps import reference_app

    return reference_app(root)


def _prebuilt_app(root: str) -> Any:
    """The least any WSGI app can do for the page: send bytes made once, at start-up.

    Under a server it measures what the server itself costs a request, which no
    framework can go below."""
    from _apps import ORDERS_PATH, ORDERS_QUERY, reference_app
    from _timing import call, make_environ

    body = call(reference_app(root), make_environ(ORDERS_PATH, ORDERS_QUERY)).body
    headers = [("Content-Type", "text/html; charset=UTF-8"), ("Content-Length", str(len(body)))]

    def prebuilt(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", headers)
        return [body]

    return prebuilt


def serve(side: str, root: str, server: str = "waitress", port: int = 0) -> None:
    app = _app(side, root)
    if server == "waitress":
        import waitress

        instance = waitress.create_server(app, host="127.0.0.1", port=port)
        _emit({"port": instance.effective_port})
        instance.run()
    elif server == "builtin":
        import tincan_core

        builtin = tincan_core.make_server(app, "127.0.0.1", port)
        _emit({"port": builtin.server_port})
        builtin.serve_forever()
    else:
        _serve_gunicorn(app, port)


def _serve_gunicorn(app: Any, port: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            settings = {
                "bind": [f"127.0.0.1:{port}"], "workers": 2, "worker_class": "sync",
                "loglevel": "warning", "control_socket_disable": True, "accesslog": None,
            }  # fmt: skip
            for key, value in settings.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    # The port was chosen by the parent; it waits for the workers to answer.
    _emit({"port": port})
    Application().run()


def main(argv: list[str]) -> None:
    match argv:
        case ["launch", root]:
            launch_tree(root)
        case ["compile", root]:
            compile_tree(root)
        case ["serve", ("ours" | "reference" | "flask" | "prebuilt") as side, root]:
            serve(side, root)
        case [
            "serve",
            ("ours" | "reference" | "flask" | "prebuilt") as side,
            root,
            server,
            port,
        ] if server in (
            "waitress",
            "gunicorn",
            "builtin",
        ):
            serve(side, root, server, int(port))
        case _:
            sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
