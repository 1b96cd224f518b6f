"""The ``repeat`` variable of a page render, answering as Chameleon's does, in fewer calls.

A ``tal:repeat`` loop registers each iteration's state in the template's
``repeat`` variable, and a template reads it per row: ``repeat.row.odd``,
``repeat.item.index``. Chameleon's :class:`~chameleon.tal.RepeatDict` answers
``repeat.row`` through ``__getattr__`` after a failed attribute lookup, and its
:class:`~chameleon.tal.RepeatItem` computes ``odd`` through two descriptors and
two functions; together about a microsecond a read, the largest single cost of
rendering a table.

:class:`RepeatDict` here is a :class:`chameleon.tal.RepeatDict` that also keeps
each loop's item as an instance attribute (so ``repeat.row`` is found by the
attribute lookup itself), and its items are this module's :class:`RepeatItem`, whose
position properties compute the same values, of the same types
(:class:`~chameleon.utils.callableint`, :class:`~chameleon.utils.callablestr`),
in one call each. They keep Chameleon's class names, which its error reports
print (``repeat: <RepeatDict ...>``). Item access (``repeat['row']``, path expressions), missing
names and every other property are Chameleon's own.

:func:`~tincan_core._render.fast_render` uses it; it relies on the layout of
Chameleon's classes, so it is used only with the releases that module supports.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from chameleon import tal
from chameleon.utils import callableint, callablestr

__all__ = ["EVENS", "ODDS", "PARITIES", "REPEAT_TYPES", "RepeatDict", "RepeatItem", "callableint"]


# The texts ``odd``, ``even`` and ``parity`` answer, made once: a callablestr has
# no attributes of its own (empty __slots__), so one instance serves every loop.
_ODD, _EVEN, _NOT = callablestr("odd"), callablestr("even"), callablestr("")

# What a program rewritten by ._fastrepeat reads a row's position with: odd, even
# and parity by the row's index modulo 2, as RepeatItem answers them.
ODDS = (_NOT, _ODD)
EVENS = (_EVEN, _NOT)
PARITIES = (_EVEN, _ODD)


class RepeatItem(tal.RepeatItem):
    """A :class:`chameleon.tal.RepeatItem` whose most-read properties take one call.

    Its iterator is always a list's or a tuple's (see :meth:`RepeatDict.__call__`),
    so the items left are its length hint, as Chameleon's ``index`` reads them.
    """

    __slots__ = ()

    @property
    def index(self) -> callableint:
        return callableint(self.length - self._iterator.__length_hint__() - 1)

    @property
    def number(self) -> callableint:
        return callableint(self.length - self._iterator.__length_hint__())

    @property
    def start(self) -> callableint:
        return callableint(self.length - self._iterator.__length_hint__() - 1 == 0)

    @property
    def end(self) -> callableint:
        return callableint(self._iterator.__length_hint__() == 0)

    # length - hint is ``number``, one more than ``index``: an odd index is an even number.
    @property
    def odd(self) -> callablestr:
        return _ODD if (self.length - self._iterator.__length_hint__()) % 2 == 0 else _NOT

    @property
    def even(self) -> callablestr:
        return _EVEN if (self.length - self._iterator.__length_hint__()) % 2 == 1 else _NOT

    @property
    def parity(self) -> callablestr:
        return _EVEN if (self.length - self._iterator.__length_hint__()) % 2 == 1 else _ODD


class RepeatDict(tal.RepeatDict):
    """A :class:`chameleon.tal.RepeatDict` whose loops are also attributes."""

    # No __slots__: the instance dictionary holds the loops, for attribute lookup.

    def __call__(self, key: Any, iterable: Iterable[Any] | None) -> tuple[Iterator[Any], int]:
        items = list(iterable) if iterable is not None else ()
        length = len(items)
        iterator = iter(items)
        item = RepeatItem(iterator, length)
        self[key] = item
        # A name the class itself has (its dunder methods and slots) keeps
        # Chameleon's lookup; a multi-name loop's key is a tuple, item access only.
        if type(key) is str and not key.startswith("_"):
            self.__dict__[key] = item
        return iterator, length


# The repeat variables whose items a rewritten program may answer for (._fastrepeat):
# this module's and Chameleon's, whose items compute the same positions.
REPEAT_TYPES = (RepeatDict, tal.RepeatDict)
