"""A page whose code fails on purpose, to show the 500 error page.

The exception and its traceback go to the log; the visitor sees only the
error page.
"""

from tincan import Page


class CrashPage(Page):
    def handle(self):
        raise RuntimeError("this page fails on purpose")
