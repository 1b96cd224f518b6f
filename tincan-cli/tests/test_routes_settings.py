"""``tincan routes`` shows the effective settings: defaults, the settings file, keywords."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tincan_cli import main

SETTINGS_FILE = """\
trusted_origins = ["https://admin.example.com"]
max_body_size = 1024
static_cache_control = "public, max-age=60"

[security_headers]
X-Frame-Options = "SAMEORIGIN"
"""


def routes(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["routes", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def settings_section(out: str) -> dict[str, str]:
    section = out.partition("\n\nSETTINGS")[2]
    assert section, out
    shown = {}
    for line in section.splitlines()[1:]:
        key, _, value = line.partition(" = ")
        shown[key.strip()] = value
    return shown


def test_table_shows_the_settings_file(
    capsys: pytest.CaptureFixture[str], make_webapp: Any
) -> None:
    root: Path = make_webapp({"index.pspx": "<p>x</p>", "WEB-INF/tincan.toml": SETTINGS_FILE})
    code, out, err = routes(capsys, str(root))
    assert (code, err) == (0, "")
    assert "/index.pspx" in out.partition("\n\n")[0]
    shown = settings_section(out)
    assert shown["trusted_origins"] == '["https://admin.example.com"]'
    assert shown["max_body_size"] == "1024"
    assert shown["static_cache_control"] == '"public, max-age=60"'
    assert shown["security_headers.X-Frame-Options"] == '"SAMEORIGIN"'
    # Settings the file does not name show their defaults.
    assert shown["trusted_proxies"] == "[]"
    assert shown["security_headers.X-Content-Type-Options"] == '"nosniff"'
    assert shown["clean_urls"] == "false"
    # Aligned: every "=" in one column.
    section = out.partition("\n\nSETTINGS")[2].splitlines()[1:]
    assert len({line.index(" = ") for line in section}) == 1


def test_defaults_without_a_settings_file(
    capsys: pytest.CaptureFixture[str], make_webapp: Any
) -> None:
    root: Path = make_webapp({"index.pspx": "<p>x</p>"})
    code, out, _ = routes(capsys, str(root))
    assert code == 0
    shown = settings_section(out)
    assert shown["max_body_size"] == str(10 * 1024 * 1024)
    assert shown["static_cache_control"] == "(not set)"


def test_json_has_the_settings(capsys: pytest.CaptureFixture[str], make_webapp: Any) -> None:
    root: Path = make_webapp({"index.pspx": "<p>x</p>", "WEB-INF/tincan.toml": SETTINGS_FILE})
    code, out, _ = routes(capsys, str(root), "--json")
    assert code == 0
    settings = json.loads(out)["settings"]
    assert settings["max_body_size"] == "1024"
    assert settings["security_headers.X-Frame-Options"] == '"SAMEORIGIN"'


def test_a_bad_setting_is_an_error_and_its_default_is_shown(
    capsys: pytest.CaptureFixture[str], make_webapp: Any
) -> None:
    root: Path = make_webapp(
        {"index.pspx": "<p>x</p>", "WEB-INF/tincan.toml": 'max_body_size = "big"\n'}
    )
    code, out, err = routes(capsys, str(root))
    assert code == 1
    assert f"{root / 'WEB-INF' / 'tincan.toml'}:1: max_body_size must be" in err
    assert settings_section(out)["max_body_size"] == str(10 * 1024 * 1024)
