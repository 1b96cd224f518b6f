"""``tincan install-static``, ``install-static`` and ``tincan server-config``: tincan-static's
commands, reached through the tincan command and the compatible name."""

from __future__ import annotations

from pathlib import Path

import pytest
import tincan_static
from tincan_cli import main
from tincan_cli._compat import install_static_main


def test_tincan_install_static_copies_only_static_files(
    capsys: pytest.CaptureFixture[str], basic_webapp: Path, tmp_path: Path
) -> None:
    target = tmp_path / "public"
    assert main(["install-static", str(basic_webapp), str(target)]) == 0
    out = capsys.readouterr().out
    assert f"cp '{basic_webapp / 'style.css'}' '{target / 'style.css'}'" in out
    installed = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert "style.css" in installed
    assert not any(name.endswith((".pspx", ".py")) for name in installed)


def test_compatible_install_static_moves(
    capsys: pytest.CaptureFixture[str], basic_webapp: Path, tmp_path: Path
) -> None:
    target = tmp_path / "public"
    assert install_static_main(["-m", str(basic_webapp), str(target)]) == 0
    assert "mv '" in capsys.readouterr().out
    assert (target / "style.css").is_file()
    assert not (basic_webapp / "style.css").exists()
    assert (basic_webapp / "index.pspx").is_file()


@pytest.mark.parametrize("argv", [[], ["only-one"], ["-m", "-n", "a", "b"]])
def test_install_static_bad_usage_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert install_static_main(argv) == 2
    assert "install-static" in capsys.readouterr().err


def test_source_not_a_webapp_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert main(["install-static", str(tmp_path / "plain"), str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith("tincan install-static: ")


def test_forwarded_help_uses_the_tincan_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["install-static", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: tincan install-static")
    assert main(["-d", "server-config", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: tincan server-config")
    assert install_static_main(["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: install-static")


def test_server_config_prints_a_configuration(
    capsys: pytest.CaptureFixture[str], basic_webapp: Path
) -> None:
    assert main(["server-config", "nginx", "--webapp", str(basic_webapp)]) == 0
    out = capsys.readouterr().out
    assert "server {" in out and "location" in out
    assert main(["server-config", "lighttpd"]) == 2


def test_missing_static_command_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(tincan_static, "main_server_config")
    assert main(["server-config", "nginx"]) == 1
    assert capsys.readouterr().err == (
        "tincan server-config: the installed tincan-static has no server-config command; "
        "upgrade tincan-static\n"
    )
