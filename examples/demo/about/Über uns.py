"""The German about page just imports its class from WEB-INF/lib."""

from about_texts import GermanAbout  # noqa: F401 - TinCan finds the class here
