"""Chameleon for plain Bottle routes: ``chameleon_template`` and ``chameleon_view``.

As in the original: a template given as text is a Chameleon ``PageTemplate``;
one given by name is found the way Bottle finds templates (each directory of
the lookup path, the name as given, then with Bottle's extensions ``.tpl``,
``.html``, ``.thtml``, ``.stpl``) and read by Chameleon's ``PageTemplateFile``,
which honours a byte-order mark, an XML declaration's encoding or a meta tag's
charset before the adapter's ``encoding`` setting, and whose ``load:``
expressions search the lookup path. The output is Chameleon's, unchanged
(only TinCan pages strip leading newlines).
"""

from __future__ import annotations

import functools
from typing import Any

import bottle
from chameleon import PageTemplate, PageTemplateFile

__all__ = ["ChameleonTemplate", "chameleon_template", "chameleon_view"]


class ChameleonTemplate(bottle.BaseTemplate):  # type: ignore[misc]
    """A Bottle template adapter rendering Chameleon page templates."""

    def prepare(self, **options: Any) -> None:
        if self.source:
            self.tpl = PageTemplate(self.source, **options)
            return
        config: dict[str, Any] = {
            "encoding": self.encoding,
            "search_path": self.lookup,
            # The fallback when the file declares no encoding of its own.
            "default_encoding": self.encoding,
            **options,
        }
        self.tpl = PageTemplateFile(self.filename, **config)

    def render(self, *args: dict[str, Any], **kwargs: Any) -> str:
        # As the original merged them: dict arguments over keywords, both over defaults.
        given = dict(kwargs)
        for mapping in args:
            given.update(mapping)
        return str(self.tpl.render(**{**self.defaults, **given}))


chameleon_template = functools.partial(bottle.template, template_adapter=ChameleonTemplate)
chameleon_view = functools.partial(bottle.view, template_adapter=ChameleonTemplate)
