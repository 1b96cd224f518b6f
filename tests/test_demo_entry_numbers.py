"""The demo's single-entry page: any ``n`` a client sends is an entry or a 404."""

from __future__ import annotations

import re

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.tincan(
    webapp="../examples/demo", static=True, raise_server_exceptions=False
)


@pytest.mark.parametrize(
    "number",
    [
        "9" * 4301,  # past int()'s limit on digits: was a ValueError, a 500
        "1" * 20_000,
        "0" * 5000 + "1",
        "١٢",  # Arabic-Indic digits: decimal to str.isdecimal(), not an entry number
        "1e3",
        " 1",
    ],
)
def test_any_number_is_a_404_never_a_500(tincan_client: httpx.Client, number: str) -> None:
    response = tincan_client.get("/entry.pspx", params={"n": number})
    assert response.status_code == 404
    assert "There is no entry #" in response.text
    assert len(response.text) < 10_000  # the page does not echo 20,000 digits


def test_a_signed_entry_is_still_found(tincan_client: httpx.Client) -> None:
    signed = tincan_client.post(
        "/guestbook.pspx", data={"name": "Ada", "message": "Hello from a test"}
    )
    assert signed.status_code == 200
    number = re.search(r'Your note is entry\s+<a href="/entry.pspx\?n=(\d+)">', signed.text)
    assert number is not None, signed.text
    response = tincan_client.get("/entry.pspx", params={"n": number.group(1)})
    assert response.status_code == 200
    assert "Hello from a test" in response.text


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60) | st.from_regex(r"[0-9]{1,6000}", fullmatch=True))
def test_random_numbers_are_an_entry_or_404(tincan_client: httpx.Client, number: str) -> None:
    response = tincan_client.get("/entry.pspx", params={"n": number})
    if not number:
        assert response.status_code == 303  # no number: the whole guestbook
    elif number.isascii() and number.isdigit() and len(number) <= 6:
        assert response.status_code in (200, 404), number  # the demo has a few entries
    else:
        assert response.status_code == 404, number
