"""The demo's single-entry page: any number a client sends, in the clean URL
(``/entry/<n:int>``) or the old query (``entry.pspx?n=``), is an entry, a
redirect to one, or a 404; never a 500."""

from __future__ import annotations

import re
from urllib.parse import quote

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
    assert signed.status_code == 303
    number = re.fullmatch(r"http://testserver/entry/(\d+)", signed.headers["location"])
    assert number is not None, signed.headers
    response = tincan_client.get(f"/entry/{number.group(1)}")
    assert response.status_code == 200
    assert "Hello from a test" in response.text
    old = tincan_client.get("/entry.pspx", params={"n": number.group(1)}, follow_redirects=True)
    assert old.status_code == 200 and "Hello from a test" in old.text


NUMBERS = st.text(max_size=60) | st.from_regex(r"-?[0-9]{1,6000}", fullmatch=True)
# "." and ".." are resolved by the client before sending: /entry/.. is no entry's URL
SEGMENTS = NUMBERS.filter(lambda number: number not in (".", ".."))


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(NUMBERS)
def test_random_numbers_are_an_entry_or_404(tincan_client: httpx.Client, number: str) -> None:
    response = tincan_client.get("/entry.pspx", params={"n": number})
    if not number:
        assert response.status_code == 303  # no number: the whole guestbook
    elif number.isascii() and number.isdigit() and len(number) <= 18:
        assert response.status_code == 301, number  # to the clean URL
        assert response.headers["location"] == f"http://testserver/entry/{int(number)}"
    else:
        assert response.status_code == 404, number
        assert len(response.text) < 10_000


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(SEGMENTS)
def test_random_numbers_in_the_clean_url_are_an_entry_or_404(
    tincan_client: httpx.Client, number: str
) -> None:
    response = tincan_client.get("/entry/" + quote(number, safe=""))
    # int() refuses over 4,300 digits: compare the digits without leading zeros instead
    found = re.fullmatch(r"[0-9]+", number) is not None and number.lstrip("0") in ("1", "2")
    assert response.status_code == (200 if found else 404), number  # two welcome entries
    assert len(response.text) < 10_000  # the 404 page does not echo thousands of digits
