"""server-config: the generated nginx and Apache texts, checked against the one
classification in tincan-core and against launch() itself."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tincan_core import FileKind, classify, launch
from tincan_static import (
    Site,
    SiteError,
    apache_config,
    main_server_config,
    nginx_config,
    page_index_dirs,
    wsgi_script,
)

segment = st.one_of(
    st.text(alphabet="abZ._-~# 'ü", min_size=1, max_size=8),
    st.sampled_from(["WEB-INF", "web-inf", "Web-Inf", "WEB-INF.bak", "web-inf-old", "__pycache__",
                     "__PYCACHE__", ".git", "#x#", "x.py", "x.pspx"]),
).filter(lambda s: s not in (".", ".."))  # fmt: skip
suffix = st.sampled_from(
    ["", ".css", ".pspx", ".PSPX", ".Py", ".py", ".pyc", ".PYO", ".pyw", ".pyi", ".pyx", ".pt",
     ".html", ".py.", ".py~", ".pspx.bak", ".py.js", ".orig", ".Swp", ".swo", ".rej", "~", "#",
     ".pspx.BAK", ".py.orig.gz"]
)  # fmt: skip
relpaths = st.tuples(st.lists(segment, min_size=1, max_size=4), suffix).map(
    lambda t: "/".join(t[0]) + t[1]
)
urlroots = st.sampled_from(["/", "/site", "/a/b", "/x.y", "/a~", "/x.py"])


def expected(relpath: str) -> str:
    """What the web server must do: exactly what the classification says."""
    kind = classify(relpath)
    if kind is FileKind.PAGE:
        return "app"
    if kind is FileKind.STATIC:
        return "none"
    return "deny"


@settings(max_examples=300)
@given(relpath=relpaths, urlroot=urlroots)
def test_property_nginx_rules_follow_the_classification(
    servers: Any, relpath: str, urlroot: str
) -> None:
    config = nginx_config(Site(urlroot=urlroot, static_dir="/srv/static"))
    uri = urlroot.rstrip("/") + "/" + relpath
    assert servers.nginx_outcome(config, uri) == expected(relpath), uri


@settings(max_examples=300)
@given(relpath=relpaths, urlroot=urlroots, single=st.booleans())
def test_property_apache_rules_follow_the_classification(
    servers: Any, relpath: str, urlroot: str, single: bool
) -> None:
    site = Site(urlroot=urlroot, static_dir="/srv/static", webapp="/srv/webapp")
    config = apache_config(site, single_directory=single)
    uri = urlroot.rstrip("/") + "/" + relpath
    outcome = servers.apache_outcome(config, uri)
    if not single and expected(relpath) == "none":
        assert outcome in ("none", "app"), uri  # a URL without a static file goes to the app
        return
    assert outcome == expected(relpath), uri


@settings(max_examples=200)
@given(
    urlroot=st.text(alphabet="abc/-_.~", max_size=12).map(lambda s: "/" + s),
    static_dir=st.text(alphabet="abc/-_. ", min_size=1, max_size=20).map(lambda s: "/" + s),
    page_dirs=st.none() | st.lists(st.text(alphabet="ab ", min_size=0, max_size=3), max_size=3),
)
def test_property_nginx_never_emits_the_alias_traversal_mistake(
    urlroot: str, static_dir: str, page_dirs: list[str] | None
) -> None:
    try:
        site = Site(
            urlroot=urlroot,
            static_dir=static_dir,
            page_dirs=tuple(sorted(set(page_dirs))) if page_dirs is not None else None,
        )
    except SiteError:
        assume(False)  # a urlroot TinCan would never serve: refused, tested below
    config = nginx_config(site)
    location = ""
    for line in config.splitlines():
        opened = re.match(r'\s*location (= )?"?([^"{]*)"? \{', line)
        if opened:
            location = opened.group(2).strip()
            exact = bool(opened.group(1))
        alias = re.match(r'\s*alias "(.*)";', line)
        if alias:
            assert alias.group(1).endswith("/"), line
            assert exact or location.endswith("/"), f"alias in location {location!r}"
    assert "root" in config or "alias" in config


def test_nginx_config_for_the_top_urlroot(
    tmp_path: Path, make_webapp: Callable[..., Path]
) -> None:
    webapp = make_webapp({"index.pspx": "<p>home</p>", "docs/index.html": "<p>docs</p>"})
    config = nginx_config(Site(static_dir="/srv/static", page_dirs=page_index_dirs(str(webapp))))
    assert 'location = "/" { proxy_pass http://tincan_app; }' in config
    assert 'location / {\n        root "/srv/static";' in config
    assert "try_files $uri $uri/index.html $uri/index.htm @tincan;" in config
    assert '"/docs' not in config  # its index is a static file: nginx serves it
    assert "alias" not in config
    deny = config.index("return 404")
    assert deny < config.index("proxy_pass")  # refusals come first
    assert "gzip_static" not in config


def test_nginx_config_under_a_urlroot() -> None:
    config = nginx_config(
        Site(urlroot="/shop/", static_dir="/srv/static/", page_dirs=("", "a b"), gzip_static=True)
    )
    assert 'location "/shop/" {\n        alias "/srv/static/";' in config
    assert 'location = "/shop/a b/"' in config and 'location = "/shop/a b"' in config
    assert 'location = "/shop" {' in config
    assert "location ~ ^/shop/.*\\.pspx$" in config
    assert "location / { return 404; }" in config
    assert "gzip_static on;" in config


def test_generic_rule_without_a_webapp_says_how_to_be_exact() -> None:
    config = nginx_config(Site())
    assert "regenerate with --webapp" in config
    assert "/var/www/tincan-static" in config


def test_apache_single_directory_follows_the_deployment_rules() -> None:
    config = apache_config(Site(webapp="/srv/webapp", urlroot="/app"), single_directory=True)
    assert "DirectoryIndex index.pspx index.html index.htm" in config
    assert '<DirectoryMatch "^/srv/webapp(/.*)?(?i:(^|/)WEB-INF)">' in config
    assert '<DirectoryMatch "^/srv/webapp(/.*)?(^|/)\\.">' in config
    assert '<FilesMatch "(?i)(^|/)WEB-INF">' in config
    assert 'RewriteRule "^/app/(.*\\.pspx)$" "/.tincan-wsgi/app/$1" [PT,L]' in config
    assert 'RewriteCond "/srv/webapp/$1" -f' in config
    assert 'Alias "/app/" "/srv/webapp/"' in config
    assert "WSGIDaemonProcess" in config and "threads=1" in config


@settings(max_examples=300)
@given(relpath=relpaths)
def test_property_apache_refuses_by_file_and_directory_name_what_is_not_static(
    servers: Any, relpath: str
) -> None:
    """Single directory: Apache's FilesMatch/DirectoryMatch checks (behind the rewrite
    rules) refuse every file of the tree that is not static; pages reach the WSGI
    script by their URL, never as files."""
    config = apache_config(Site(webapp="/srv/webapp"), single_directory=True)
    denied = servers.apache_file_denied(config, "/srv/webapp/" + relpath)
    assert denied is (classify(relpath) is not FileKind.STATIC), relpath


def test_nginx_sets_the_forwarded_headers_itself() -> None:
    config = nginx_config(Site(listen="127.0.0.1:8080", server_name="example.org"))
    for header in (
        "proxy_set_header Host $host:$server_port;",
        "proxy_set_header X-Forwarded-Host $host:$server_port;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-Port $server_port;",
        'proxy_set_header X-Forwarded-Prefix "";',
        'proxy_set_header Forwarded "";',
    ):
        assert header in config
    # Never the client's own: its Host header, or its X-Forwarded-For extended.
    assert "$http_" not in config and "$proxy_add_x_forwarded_for" not in config
    on_80 = nginx_config(Site(server_name="example.org"))
    assert "proxy_set_header Host $host;" in on_80


def test_nginx_answers_unknown_host_names_with_421() -> None:
    config = nginx_config(Site(listen="8080", server_name="example.org, www.example.org"))
    default, _, site = config.partition("server {\n    listen 8080;\n")
    assert "listen 8080 default_server;\n    server_tokens off;\n    return 421;" in default
    assert "proxy_pass" not in default
    assert "    server_name example.org www.example.org;" in site
    assert "server_name localhost;" in nginx_config(Site())  # never "_": any host at all


def test_apache_lists_every_server_name() -> None:
    config = apache_config(Site(server_name="example.org www.example.org"))
    assert "ServerName example.org\n    ServerAlias www.example.org\n" in config


def test_page_index_dirs_follow_launch_precedence(make_webapp: Callable[..., Path]) -> None:
    webapp = make_webapp(
        {
            "index.pspx": "<p>top</p>",
            "both/index.pspx": "<p>page wins</p>",
            "both/index.html": "<p>shadowed</p>",
            "html/index.html": "<p>static</p>",
            "hidden/index.pspx": "#hidden\n<p>hidden</p>",
            "hidden/index.html": "<p>static wins over a hidden page</p>",
            "errors/index.pspx": "#errors 404\n<p>an error page</p>",
            "broken/index.pspx": "#nonsense\n<p>broken header</p>",
            "upper/INDEX.PSPX": "<p>not an index name</p>",
            "WEB-INF/priv/index.pspx": "<p>private</p>",
        }
    )
    assert page_index_dirs(str(webapp)) == ("", "both")


index_kinds = st.sampled_from(["page", "hidden", "error", "broken", "html", "htm"])
CONTENT = {
    "page": ("index.pspx", "<p>page</p>"),
    "hidden": ("index.pspx", "#hidden\n<p>hidden</p>"),
    "error": ("index.pspx", "#errors 404\n<p>error</p>"),
    "broken": ("index.pspx", "#bogus\n<p>broken</p>"),
    "html": ("index.html", "<p>html</p>"),
    "htm": ("index.htm", "<p>htm</p>"),
}


@settings(max_examples=25)
@given(
    layout=st.dictionaries(
        st.sampled_from(["", "a", "a/b", "c", "c d"]), st.sets(index_kinds, max_size=3), max_size=4
    )
)
def test_property_page_index_dirs_agree_with_launch(
    tmp_path_factory: pytest.TempPathFactory, layout: dict[str, set[str]]
) -> None:
    root = tmp_path_factory.mktemp("idx")
    (root / "WEB-INF").mkdir()
    for directory, kinds in layout.items():
        for kind in sorted(kinds):
            name, text = CONTENT[kind]
            path = root / directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_text(text)
    app, _ = launch(root, static=True)
    assert app is not None
    from_launch = {
        info.file.rpartition("/")[0]
        for info in app.route_info
        if info.kind == "index" and info.file.endswith(".pspx")
    }
    assert set(page_index_dirs(str(root))) == from_launch


def test_site_refuses_values_that_cannot_work() -> None:
    with pytest.raises(SiteError, match="must start with"):
        Site(urlroot="shop")
    with pytest.raises(SiteError, match="http://HOST:PORT"):
        Site(app_url="127.0.0.1:8000")
    with pytest.raises(SiteError, match="absolute"):
        Site(static_dir="relative/dir")
    with pytest.raises(SiteError, match="cannot have"):
        Site(urlroot="/a;b")
    for urlroot in ("/WEB-INF", "/web-inf.bak/x", "/.well", "/a/__pycache__"):
        with pytest.raises(SiteError, match="never serves"):
            Site(urlroot=urlroot)
    for name in ("a;b", "x.org; include /etc/passwd", "_", "*", "{x}", "a'b"):
        with pytest.raises(SiteError, match="not a host name"):
            Site(server_name=name)
    with pytest.raises(SiteError, match="--listen"):
        Site(listen="80; include /etc/passwd")
    assert Site(server_name="*.example.org .example.net 127.0.0.1 [::1]").server_names == (
        "*.example.org",
        ".example.net",
        "127.0.0.1",
        "[::1]",
    )


def test_wsgi_script_runs_the_webapp(make_webapp: Callable[..., Path], tmp_path: Path) -> None:
    webapp = make_webapp({"index.pspx": "<p>hello from the script</p>"})
    source = wsgi_script(Site(webapp=str(webapp), urlroot="/"))
    namespace: dict[str, object] = {}
    exec(compile(source, "wsgi.py", "exec"), namespace)
    application = namespace["application"]
    captured: list[str] = []
    environ: dict[str, object] = {"PATH_INFO": "/", "SCRIPT_NAME": "/.tincan-wsgi"}
    setup_testing_defaults(environ)
    body = b"".join(
        application(environ, lambda status, headers, exc_info=None: captured.append(status))
    )  # type: ignore[operator]
    assert captured == ["200 OK"]
    assert b"hello from the script" in body
    assert environ["SCRIPT_NAME"] == ""


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main_server_config(args)
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run_cli(["caddy"], capsys)[0] == 2
    status, _, err = run_cli(["nginx", "--single-directory"], capsys)
    assert status == 2 and "Apache (mod_wsgi)" in err
    status, _, err = run_cli(["wsgi"], capsys)
    assert status == 2 and "needs --webapp" in err
    status, _, err = run_cli(["nginx", "--webapp", str(tmp_path)], capsys)
    assert status == 2 and "not a webapp" in err
    status, _, err = run_cli(["nginx", "--urlroot", "shop"], capsys)
    assert status == 2 and "must start with '/'" in err
    status, _, err = run_cli(["nginx", "--encoding", "klingon"], capsys)
    assert status == 2 and "unknown encoding" in err
    assert "Traceback" not in err


def test_cli_prints_the_configuration(
    capsys: pytest.CaptureFixture[str], make_webapp: Callable[..., Path]
) -> None:
    webapp = make_webapp({"index.pspx": "<p>x</p>"})
    status, out, _ = run_cli(
        ["nginx", "--webapp", str(webapp), "--static-dir", "/srv/s", "--listen", "8080",
         "--server-name", "example.org", "--app-url", "http://127.0.0.1:9000"],
        capsys,
    )  # fmt: skip
    assert status == 0
    assert "listen 8080;" in out and "server_name example.org;" in out
    assert "listen 8080 default_server;" in out
    assert "server 127.0.0.1:9000;" in out and 'location = "/" {' in out
    status, out, _ = run_cli(["apache", "--listen", "127.0.0.1:8081"], capsys)
    assert status == 0 and "Listen 127.0.0.1:8081" in out and "<VirtualHost *:8081>" in out


def test_cli_takes_several_server_names(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(
        ["nginx", "--server-name", "example.org", "--server-name", "www.example.org  a.example"],
        capsys,
    )
    assert status == 0 and "server_name example.org www.example.org a.example;" in out
    status, _, err = run_cli(["nginx", "--server-name", "x;y"], capsys)
    assert status == 2 and "not a host name" in err
    status, _, err = run_cli(["nginx", "--urlroot", "/WEB-INF.old"], capsys)
    assert status == 2 and "never serves" in err


README = Path(__file__).resolve().parents[1] / "README.md"


def readme_blocks(language: str) -> list[str]:
    """The README's fenced blocks of ``language``, with their indentation removed."""
    fence = re.compile(rf"^( *)```{language}\n(.*?)^\1```$", re.S | re.M)
    blocks = []
    for match in fence.finditer(README.read_text()):
        lines = match.group(2).splitlines(True)
        pad = len(match.group(1))
        blocks.append("".join(line[pad:] if line.strip() else line for line in lines))
    return blocks


@pytest.mark.skipif(not README.exists(), reason="the README is not beside the tests")
def test_the_readme_shows_what_server_config_prints() -> None:
    """The deployment guide's configurations for examples/demo (index pages at the top
    and in about/) are the generator's output, not an old copy."""
    site = Site(
        static_dir="/srv/guestbook/static", server_name="example.org", page_dirs=("", "about"),
        webapp="/srv/guestbook/webapp",
    )  # fmt: skip
    nginx = readme_blocks("nginx")
    assert nginx[0] == nginx_config(Site(**{**site_fields(site), "gzip_static": True}))
    apache = readme_blocks("apache")
    assert apache[0] == apache_config(Site(**{**site_fields(site), "webapp": ""}))
    assert apache[1] == apache_config(site, single_directory=True)


def site_fields(site: Site) -> dict[str, Any]:
    return {name: getattr(site, name) for name in Site.__dataclass_fields__}
