"""The benchmark's layout page written the way a Flask user would write it.

What a developer choosing a framework today compares TinCan with: a Flask
view with ``render_template`` and Jinja2 templates, a base template with a
``{% block %}`` for the layout, the logic in the view, Flask's defaults
(autoescaping on, templates loaded from a ``templates`` folder and cached).
It computes and shows the same orders table as ``/orders.pspx`` of ``_apps``;
the markup is Jinja2's, so only the content is compared (see ``same_rows``).
"""

from __future__ import annotations

import os
import re
from typing import Any

__all__ = ["flask_app", "same_rows"]

BASE = """\
<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>{{ title }}</title>
    <link rel="stylesheet" href="/css/site.css">
  </head>
  <body>
    <header>
      <nav><a href="/">Home</a> <a href="/orders.pspx">Orders</a></nav>
      <p class="user">Signed in as {{ user }}</p>
    </header>
    <main>{% block content %}content{% endblock %}</main>
    <footer>Page {{ number }} of {{ pages }}</footer>
  </body>
</html>
"""

ORDERS = """\
{% extends "base.html" %}
{% block content %}
    <h1>{{ title }}</h1>
    <table class="orders">
      <tr><th>#</th><th>Item</th><th>Quantity</th><th>Price</th></tr>
      {% for row in rows %}
      <tr class="{{ loop.cycle('even', 'odd') }}">
        <td>{{ row[0] }}</td><td>{{ row[1] }}</td><td>{{ row[2] }}</td>
        <td>{{ '%.2f' | format(row[3]) }}</td>
      </tr>
      {% endfor %}
    </table>
    {% if total > 100 %}<p>Total: {{ '%.2f' | format(total) }}</p>{% endif %}
{% endblock %}
"""


def flask_app(root: str) -> Any:
    """The Flask application, its templates written into ``root/flask-templates``."""
    from flask import Flask, render_template, request

    templates = os.path.join(root, "flask-templates")
    os.makedirs(templates, exist_ok=True)
    for name, text in (("base.html", BASE), ("orders.html", ORDERS)):
        with open(os.path.join(templates, name), "w", encoding="utf-8") as f:
            f.write(text)
    app = Flask(__name__, template_folder=templates, static_folder=None)

    @app.route("/orders.pspx")
    def orders() -> str:
        user = request.args.get("user", "guest")
        number = int(request.args.get("page", "1"))
        first = (number - 1) * 40
        rows = [(n, f"item {n}", n % 7 + 1, (n % 13) * 1.25) for n in range(first, first + 40)]
        return render_template(
            "orders.html",
            user=user,
            number=number,
            pages=5,
            title="Orders of " + user,
            rows=rows,
            total=sum(row[2] * row[3] for row in rows),
        )

    return app


_CELLS = re.compile(rb"<td>([^<]*)</td>")


def same_rows(ours: bytes, theirs: bytes) -> bool:
    """Whether two renderings of the orders page show the same table cells and total."""
    total = re.compile(rb"Total: ([0-9.]+)")
    return _CELLS.findall(ours) == _CELLS.findall(theirs) and total.findall(ours) == total.findall(
        theirs
    )
