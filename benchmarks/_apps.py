"""The per-request benchmark's webapp, and the hand-written Bottle app it is measured against.

Both sides share every template text and do the same work per request:

* ``/orders.pspx`` — a page that ``#load``s a layout macro file from
  ``WEB-INF/tlib`` and has a code-behind computing its variables from the
  query string. The reference is one ``@app.route`` that does the same
  computation and returns ``template.render(**variables)``.
* ``/hello.pspx`` — a small page without code-behind. The reference renders
  the same template text with no variables.
* ``/css/site.css`` — a static file. The reference is the usual
  ``bottle.static_file`` route.

The reference is a plain ``bottle.Bottle()``, so it carries Bottle's default
plugins exactly as TinCan's app does.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import bottle
from chameleon import PageTemplate

__all__ = [
    "CSS_PATH", "HELLO_PATH", "ORDERS_PATH", "ORDERS_QUERY", "reference_app", "write_webapp",
]

ORDERS_PATH = "/orders.pspx"
ORDERS_QUERY = "user=ann&page=2"
HELLO_PATH = "/hello.pspx"
CSS_PATH = "/css/site.css"

LAYOUT = """\
<!DOCTYPE html>
<html metal:define-macro="page" lang="en">
  <head>
    <meta charset="utf-8">
    <title>${title}</title>
    <link rel="stylesheet" href="/css/site.css">
  </head>
  <body>
    <header>
      <nav><a href="/">Home</a> <a href="/orders.pspx">Orders</a></nav>
      <p class="user">Signed in as ${user}</p>
    </header>
    <main metal:define-slot="content">content</main>
    <footer>Page ${number} of ${pages}</footer>
  </body>
</html>
"""

# The template text both sides render (TinCan's page adds only its header line).
ORDERS_TEMPLATE = """\
<html metal:use-macro="layout.macros['page']">
  <main metal:fill-slot="content">
    <h1>${title}</h1>
    <table class="orders">
      <tr><th>#</th><th>Item</th><th>Quantity</th><th>Price</th></tr>
      <tr tal:repeat="row rows" class="${repeat.row.odd and 'odd' or 'even'}">
        <td>${row[0]}</td><td>${row[1]}</td><td>${row[2]}</td>
        <td tal:content="'%.2f' % row[3]">0.00</td>
      </tr>
    </table>
    <p tal:condition="total > 100">Total: ${'%.2f' % total}</p>
  </main>
</html>
"""

ORDERS_PAGE = "#load <layout.pt>\n" + ORDERS_TEMPLATE

# The logic, written once as code-behind and once (below) as a Bottle route.
ORDERS_CODE_BEHIND = """\
from tincan import Page


class Orders(Page):
    def handle(self):
        query = self.request.query
        self.user = query.get("user", "guest")
        self.number = int(query.get("page", "1"))
        self.pages = 5
        self.title = "Orders of " + self.user
        first = (self.number - 1) * 40
        self.rows = [
            (n, f"item {n}", n % 7 + 1, (n % 13) * 1.25) for n in range(first, first + 40)
        ]
        self.total = sum(row[2] * row[3] for row in self.rows)
"""

HELLO_TEMPLATE = """\
<!DOCTYPE html>
<html lang="en">
  <head><title>Hello</title></head>
  <body>
    <h1>Hello, world</h1>
    <ul><li tal:repeat="n range(3)">Item ${n}</li></ul>
  </body>
</html>
"""

CSS = "".join(
    f".item-{n} {{ margin: {n}px; padding: {n % 5}px; color: #{n * 37 % 4096:03x}; }}\n"
    for n in range(60)
)


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_webapp(root: str) -> None:
    """Write the benchmark webapp into the (empty or missing) directory ``root``."""
    _write(os.path.join(root, "WEB-INF", "tlib", "layout.pt"), LAYOUT)
    _write(os.path.join(root, "orders.pspx"), ORDERS_PAGE)
    _write(os.path.join(root, "orders.py"), ORDERS_CODE_BEHIND)
    _write(os.path.join(root, "hello.pspx"), HELLO_TEMPLATE)
    _write(os.path.join(root, "css", "site.css"), CSS)


def _templates(*texts: str, fast_compile: bool) -> list[PageTemplate]:
    """``texts`` compiled as a hand-written app's Chameleon compiles them, or (with
    ``fast_compile``) by TinCan's faster compile, which importing tincan_core
    installs for the whole process."""
    if fast_compile or "tincan_core" not in sys.modules:
        return [PageTemplate(text) for text in texts]
    from tincan_core import _fastcompile

    with _fastcompile.disabled():
        templates = [PageTemplate(text) for text in texts]
        for template in templates:
            template.cook_check()  # compiled now, while the faster compile is off
    return templates


def reference_app(root: str, *, fast_compile: bool = False) -> bottle.Bottle:
    """The same pages written by hand as an ordinary Bottle application (its
    templates compiled by TinCan's faster compile with ``fast_compile``)."""
    app = bottle.Bottle()
    layout, orders, hello = _templates(
        LAYOUT, ORDERS_TEMPLATE, HELLO_TEMPLATE, fast_compile=fast_compile
    )
    css_root = os.path.join(root, "css")

    @app.route(ORDERS_PATH)  # type: ignore[untyped-decorator]
    def orders_page() -> Any:
        query = bottle.request.query
        user = query.get("user", "guest")
        number = int(query.get("page", "1"))
        first = (number - 1) * 40
        rows = [
            (n, f"item {n}", n % 7 + 1, (n % 13) * 1.25) for n in range(first, first + 40)
        ]
        return orders.render(
            layout=layout,
            user=user,
            number=number,
            pages=5,
            title="Orders of " + user,
            rows=rows,
            total=sum(row[2] * row[3] for row in rows),
        )

    @app.route(HELLO_PATH)  # type: ignore[untyped-decorator]
    def hello_page() -> Any:
        return hello.render()

    @app.route("/css/<filename:path>")  # type: ignore[untyped-decorator]
    def css(filename: str) -> Any:
        return bottle.static_file(filename, root=css_root)

    return app
