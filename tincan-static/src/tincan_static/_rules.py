"""tincan-core's classification rules, arranged the way a web server applies them.

The configurations never spell a private name or a source suffix themselves: every
deny pattern is a :data:`tincan_core.NAME_RULES` pattern, written out unchanged,
so nginx, Apache, ``install-static`` and ``launch(static=True)`` refuse exactly the
same names. Order matters as in :func:`tincan_core.classify`: the rules before the
page rule are refused first, then pages go to the application, then the rules
after it are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tincan_core import NAME_RULES, FileKind, NameRule

__all__ = ["ServerRules", "server_rules"]

# What nginx (unquoted) and Apache (in double quotes) would read differently: quotes,
# whitespace, nginx's block and statement characters, and any escape but "\.".
_UNWRITABLE = re.compile(r"[\s\"';{}\\]")


@dataclass(frozen=True, slots=True)
class ServerRules:
    before_pages: tuple[NameRule, ...]  # refused even for a .pspx name
    page: NameRule  # the application's
    after_pages: tuple[NameRule, ...]  # refused unless a page

    @property
    def denied(self) -> tuple[NameRule, ...]:
        return self.before_pages + self.after_pages

    @property
    def directory_rules(self) -> tuple[NameRule, ...]:
        """The rules that also refuse a directory (and everything in it) by its name."""
        return tuple(rule for rule in self.denied if rule.directories)

    def page_comment(self) -> str:
        """What the page rule sends to the application, for a comment line."""
        spelling = "" if self.page.ignore_case else ", exactly that spelling"
        return f"{self.page.what.capitalize()}{spelling}"

    def refuses_prefix(self, prefix: str) -> bool:
        """Whether a URL prefix would be refused itself (then every URL under it is)."""
        return any(rule.regex.search(prefix + "/") for rule in self.directory_rules)


def server_rules(rules: tuple[NameRule, ...] = NAME_RULES) -> ServerRules:
    kinds = [rule.kind for rule in rules]
    if kinds.count(FileKind.PAGE) != 1:
        raise ValueError("the classification needs exactly one page rule")
    at = kinds.index(FileKind.PAGE)
    for rule in rules:
        # Written into configuration files unquoted (nginx) or in double quotes (Apache).
        if _UNWRITABLE.search(rule.pattern.replace("\\.", "")):
            raise ValueError(f"pattern {rule.pattern!r} cannot be written into a server config")
    return ServerRules(rules[:at], rules[at], rules[at + 1 :])
