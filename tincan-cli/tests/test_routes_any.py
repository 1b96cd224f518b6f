"""``tincan routes`` lists a ``#methods ANY`` page with the method Bottle knows it by."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tincan_cli import main


def test_any_is_listed_as_a_method(capsys: pytest.CaptureFixture[str], make_webapp: Any) -> None:
    root = make_webapp(
        {
            "any.pspx": "#methods ANY\n<p/>\n",
            "dir/index.pspx": "#methods any\n<p/>\n",
            "get.pspx": "<p/>\n",
        }
    )
    assert main(["routes", str(root), "--json"]) == 0
    rows = {row["path"]: row for row in json.loads(capsys.readouterr().out)["routes"]}
    assert rows["/any.pspx"]["methods"] == ["ANY"]
    assert rows["/dir/"]["methods"] == rows["/dir"]["methods"] == ["ANY"]
    assert rows["/get.pspx"]["methods"] == ["GET"]
    assert main(["routes", str(root)]) == 0
    out = capsys.readouterr().out.split("\n\n")[0]  # the table; the settings follow
    table = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert table["/any.pspx"] == table["/dir/"] == "ANY"
