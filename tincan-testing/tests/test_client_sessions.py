"""The in-process client: cookies (sessions) last across requests; cross-site requests."""

from __future__ import annotations

import pytest
from tincan_testing.plugin import WebappFactory

COUNTER = {
    "WEB-INF/tincan.toml": '[session]\nkey_file = "WEB-INF/secret.key"\n',
    "WEB-INF/secret.key": "a-secret-key-for-the-client-tests\n",
    "count.pspx": "#methods GET POST\n<p>${visits}</p>",
    "count.py": (
        "from tincan import Page\n"
        "class Count(Page):\n"
        "    def handle(self):\n"
        "        self.visits = self.session.get('visits', 0) + 1\n"
        "        self.session['visits'] = self.visits\n"
    ),
}


@pytest.fixture(autouse=True)
def no_secret_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TINCAN_SECRET_KEY", raising=False)


def test_the_client_keeps_the_session_cookie(tincan_webapp: WebappFactory) -> None:
    webapp = tincan_webapp(COUNTER)
    client = webapp.client()
    assert [client.get("/count.pspx").text for _ in range(3)] == [
        "<p>1</p>", "<p>2</p>", "<p>3</p>",
    ]  # fmt: skip
    assert webapp.client().get("/count.pspx").text == "<p>1</p>"  # a new visitor


def test_the_client_passes_the_cross_origin_check_and_can_simulate_a_forged_post(
    tincan_webapp: WebappFactory,
) -> None:
    webapp = tincan_webapp(COUNTER)
    assert webapp.client().post("/count.pspx").status_code == 200
    forged = webapp.client(cross_site=True, raise_server_exceptions=False)
    assert forged.post("/count.pspx").status_code == 403
    assert forged.get("/count.pspx").status_code == 200  # reading is never refused
