"""One-line assertions about a response, with a message that says what was there instead."""

from __future__ import annotations

import httpx

__all__ = ["assert_contains", "assert_redirects"]

_EXCERPT = 300


def _request_line(response: httpx.Response) -> str:
    try:
        request = response.request
    except RuntimeError:  # a response built by hand
        return "the response"
    target = request.url.raw_path.decode("ascii", "replace")
    return f"the response to {request.method} {target}"


def _excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + f"... ({len(text)} characters)"


def _base(response: httpx.Response) -> httpx.URL:
    try:
        return response.request.url
    except RuntimeError:
        return httpx.URL("http://testserver/")


def assert_redirects(
    response: httpx.Response, to: str, *, status_code: int | None = None
) -> None:
    """Assert that ``response`` redirects to ``to`` (a path or URL, relative to the request).

    The response is the redirect itself (httpx does not follow redirects unless
    asked) or, for a client that follows them, the first redirect of its
    history. ``status_code`` also checks the code (e.g. 303); by default any
    3xx with a ``Location`` header will do.
    """
    __tracebackhide__ = True
    redirect = response
    if not redirect.is_redirect and response.history:
        redirect = response.history[0]
    where = _request_line(redirect)
    if not redirect.is_redirect:
        raise AssertionError(
            f"{where} is {redirect.status_code} {redirect.reason_phrase}, not a redirect "
            f"to {to}:\n{_excerpt(redirect.text)}"
        )
    location = redirect.headers["location"]
    base = _base(redirect)
    expected, actual = base.join(to), base.join(location)
    problems = []
    if actual != expected:
        problems.append(f"goes to {location}, not {to}")
    if status_code is not None and redirect.status_code != status_code:
        problems.append(f"is a {redirect.status_code}, not a {status_code}")
    if problems:
        raise AssertionError(f"{where} redirects, but " + " and ".join(problems))


def assert_contains(
    response: httpx.Response,
    text: str,
    count: int | None = None,
    *,
    status_code: int | None = 200,
) -> None:
    """Assert that the body of ``response`` contains ``text`` (exactly ``count`` times,
    if given; ``count=0`` asserts it is absent) and that the status is ``status_code``
    (``None``: any status)."""
    __tracebackhide__ = True
    where = _request_line(response)
    body = response.text
    if status_code is not None and response.status_code != status_code:
        raise AssertionError(
            f"{where} is {response.status_code} {response.reason_phrase}, not {status_code} "
            f"(looking for {text!r}):\n{_excerpt(body)}"
        )
    found = body.count(text)
    if count is None and not found:
        raise AssertionError(f"{text!r} is not in {where}:\n{_excerpt(body)}")
    if count is not None and found != count:
        raise AssertionError(
            f"{text!r} is {found} time(s) in {where}, expected {count}:\n{_excerpt(body)}"
        )
