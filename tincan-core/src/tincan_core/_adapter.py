"""Chameleon for plain Bottle routes: ``chameleon_template`` and ``chameleon_view``.

Bottle ships an adapter of its own; this one decodes template files with the
webapp's encoding, finds them through Bottle's ``TEMPLATE_PATH`` lookup, and
strips the leading newlines TinCan pages never send either.
"""

from __future__ import annotations

import functools
from typing import Any

import bottle
from chameleon import PageTemplate

__all__ = ["ChameleonTemplate", "chameleon_template", "chameleon_view"]


class ChameleonTemplate(bottle.BaseTemplate):  # type: ignore[misc]
    """A Bottle template adapter rendering Chameleon page templates."""

    extensions = ["pt", "pspx", "html", "htm"]

    def prepare(self, **options: Any) -> None:
        source = self.source
        if source is None:
            with open(self.filename, "rb") as f:
                source = f.read()
        if isinstance(source, bytes):
            source = source.decode(self.encoding).removeprefix("\ufeff")
        # Chameleon's typed config does not list ``filename``, which it accepts.
        config: dict[str, Any] = {"filename": self.filename or "<string>", **options}
        self.tpl = PageTemplate(source, **config)

    def render(self, *args: dict[str, Any], **kwargs: Any) -> str:
        variables = dict(self.defaults)
        for mapping in args:
            variables.update(mapping)
        variables.update(kwargs)
        return str(self.tpl.render(**variables)).lstrip("\r\n")


chameleon_template = functools.partial(bottle.template, template_adapter=ChameleonTemplate)
chameleon_view = functools.partial(bottle.view, template_adapter=ChameleonTemplate)
