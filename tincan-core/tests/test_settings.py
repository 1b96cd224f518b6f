"""``WEB-INF/tincan.toml``: validation with file:line, defaults, and launch() keywords."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tincan_core._settings import (
    DEFAULT_SECURITY_HEADERS,
    Settings,
    load_settings,
    merge_overrides,
    parse_settings,
    setting_names,
)

FILE = "/site/WEB-INF/tincan.toml"


def test_no_file_means_defaults(tmp_path: Path) -> None:
    (tmp_path / "WEB-INF").mkdir()
    settings, problems = load_settings(str(tmp_path))
    assert problems == []
    assert settings == Settings()
    assert dict(settings.security_headers) == dict(DEFAULT_SECURITY_HEADERS)


def test_every_key_is_read() -> None:
    text = """
clean_urls = true
redirect_to_clean_urls = true
trusted_origins = ["https://Admin.Example.com/", "http://127.0.0.1:9000"]
trusted_proxies = ["127.0.0.1", "10.0.0.0/8", "::1"]
max_body_size = 2048
static_cache_control = "public, max-age=60"

[security_headers]
x-frame-options = "SAMEORIGIN"
Referrer-Policy = ""
Permissions-Policy = "camera=()"

[session]
key_file = "WEB-INF/secret.key"
max_age = 3600
cookie_name = "sid"

[app]
database = "/var/lib/site.sqlite"
answer = 42
"""
    settings, problems = parse_settings(text, FILE)
    assert problems == []
    assert settings.clean_urls and settings.redirect_to_clean_urls
    assert settings.trusted_origins == ("https://admin.example.com", "http://127.0.0.1:9000")
    assert settings.trusted_proxies == ("127.0.0.1", "10.0.0.0/8", "::1")
    assert settings.max_body_size == 2048
    assert settings.static_cache_control == "public, max-age=60"
    # A default's spelling is kept; an empty value drops it; new headers are added.
    assert settings.security_headers["X-Frame-Options"] == "SAMEORIGIN"
    assert dict(settings.response_headers()) == {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=()",
    }
    assert settings.session_key_file == "WEB-INF/secret.key"
    assert settings.session_max_age == 3600
    assert settings.session_cookie_name == "sid"
    assert dict(settings.app) == {"database": "/var/lib/site.sqlite", "answer": 42}


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("clean_urls = 'yes'", 1, "clean_urls must be true or false"),
        ("\n\nclean_url = true", 3, "unknown setting 'clean_url' (did you mean 'clean_urls'?)"),
        ("max_body_size = -1", 1, "max_body_size must be a whole number of bytes"),
        ("max_body_size = true", 1, "max_body_size must be a whole number of bytes"),
        ("trusted_origins = 'https://a.example'", 1, "trusted_origins must be a list"),
        ("trusted_origins = ['a.example']", 1, "'a.example' is not an origin"),
        ("trusted_origins = ['https://a.example/path']", 1, "is not an origin"),
        ("trusted_proxies = ['proxy.local']", 1, "'proxy.local' is not an IP address"),
        ("[session]\nkey_file = '/etc/key'", 2, "session.key_file must be a path inside WEB-INF"),
        (
            "[session]\nkey_file = 'secret.key'",
            2,
            "session.key_file must be a path inside WEB-INF",
        ),
        ("[session]\nkey_file = 'WEB-INF/../k'", 2, "inside WEB-INF"),
        ("[session]\n\nmax_age = 0", 3, "session.max_age must be a whole number of seconds"),
        ("[session]\ncookie_name = 'a b'", 2, "session.cookie_name must be a cookie name"),
        ("[session]\nkye_file = 'x'", 2, "unknown setting 'session.kye_file'"),
        ("session = 3", 1, "session must be a table"),
        ("[security_headers]\n'Bad Name' = 'x'", 2, "'Bad Name' is not a header name"),
        ('[security_headers]\nX-A = "ok"\nX-B = "a\\nb"', 3, "X-B must not contain line breaks"),
        ("static_cache_control = 5", 1, "static_cache_control must be a string"),
        ("clean_urls = true\nclean_urls = false", 2, "not valid TOML"),
        ("clean_urls = [", 1, "not valid TOML"),
    ],
)
def test_problems_name_file_and_line(text: str, line: int, fragment: str) -> None:
    _, problems = parse_settings(text, FILE)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.file == FILE
    assert problem.line == line
    assert fragment in str(problem)
    assert str(problem).startswith(f"{FILE}:{line}: ")


def test_a_bad_value_keeps_the_default_and_the_good_ones() -> None:
    settings, problems = parse_settings("clean_urls = 1\nmax_body_size = 99\n", FILE)
    assert [p.line for p in problems] == [1]
    assert settings.clean_urls is False
    assert settings.max_body_size == 99


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "WEB-INF").mkdir()
    (tmp_path / "WEB-INF" / "tincan.toml").write_bytes(b"# ok\nclean_urls = true # \xff\n")
    settings, problems = load_settings(str(tmp_path))
    assert settings == Settings()
    assert [(p.line, "not UTF-8" in p.message) for p in problems] == [(2, True)]


def test_keywords_override_and_check_types() -> None:
    base, _ = parse_settings("clean_urls = true\nmax_body_size = 5\n", FILE)
    merged = merge_overrides(
        base, {"clean_urls": False, "trusted_origins": ("https://x.example",)}
    )
    assert merged.clean_urls is False
    assert merged.max_body_size == 5
    assert merged.trusted_origins == ("https://x.example",)
    with pytest.raises(TypeError, match="unexpected keyword argument 'clean_url'"):
        merge_overrides(base, {"clean_url": True})
    with pytest.raises(TypeError, match="'max_body_size' must be a whole number"):
        merge_overrides(base, {"max_body_size": "big"})
    assert merge_overrides(base, {"static_cache_control": None}).static_cache_control is None


def test_describe_lists_every_setting() -> None:
    keys = [key for key, _ in Settings().describe()]
    assert "clean_urls" in keys and "session.max_age" in keys and "app" in keys
    assert "security_headers.X-Frame-Options" in keys
    assert len(setting_names()) == 11


# -- properties ----------------------------------------------------------------------
_ORIGINS = st.builds(
    lambda scheme, host, port: f"{scheme}://{host}" + (f":{port}" if port else ""),
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z][a-z0-9\-]{0,10}(\.[a-z]{2,5}){0,2}", fullmatch=True),
    st.none() | st.integers(1, 65535),
)
_VALID = st.fixed_dictionaries(
    {},
    optional={
        "clean_urls": st.booleans(),
        "redirect_to_clean_urls": st.booleans(),
        "trusted_origins": st.lists(_ORIGINS, max_size=3),
        "trusted_proxies": st.lists(st.ip_addresses().map(str), max_size=3),
        "max_body_size": st.integers(1, 2**40),
        "static_cache_control": st.text(
            st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=20
        ),
    },
)


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        # TOML basic strings: escape what JSON leaves raw but TOML forbids (DEL).
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


def _toml(values: dict[str, object]) -> str:
    return "".join(f"{key} = {_toml_value(value)}\n" for key, value in values.items())


@given(_VALID)
def test_any_valid_file_is_read_as_written(values: dict[str, object]) -> None:
    settings, problems = parse_settings(_toml(values), FILE)
    assert problems == []
    for key, value in values.items():
        got = getattr(settings, key)
        assert (list(got) if isinstance(got, tuple) else got) == value


@given(
    _VALID,
    st.from_regex(r"[a-z_]{1,12}", fullmatch=True).filter(lambda k: k not in setting_names()),
    st.integers(0, 5),
)
def test_an_unknown_key_is_one_problem_at_its_line(
    values: dict[str, object], unknown: str, position: int
) -> None:
    lines = _toml(values).split("\n")[:-1]
    position = min(position, len(lines))
    lines.insert(position, f"{unknown} = 1")
    _, problems = parse_settings("\n".join(lines) + "\n", FILE)
    assert [(p.line, unknown in p.message) for p in problems] == [(position + 1, True)]
