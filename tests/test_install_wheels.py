"""TinCan installed the way its README says: built with ``./dev dist``, installed
from ``dist/`` into fresh venvs outside the repository, used as a new user would.

Also the built artifacts themselves: ``twine check --strict``, the metadata every
distribution carries, and sdists whose tests pass on their own. pip may fetch the
third-party dependencies (Bottle, Chameleon, pytest, ...) from the package index.
"""

from __future__ import annotations

import email.message
import email.parser
import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
VERSION = Version(
    tomllib.loads((ROOT / "tincan-core/pyproject.toml").read_text())["project"]["version"]
)
SAME_MINOR = SpecifierSet(
    f">={VERSION.major}.{VERSION.minor},<{VERSION.major}.{VERSION.minor + 1}"
)
# distribution name -> the directory of its sources
DISTRIBUTIONS = {
    "tincan-core": "tincan-core",
    "tincan-static": "tincan-static",
    "tincan-cli": "tincan-cli",
    "tincan-testing": "tincan-testing",
    "tincan": "packages/tincan",
}
TIMEOUT = 1800  # seconds for one pip or pytest run; the machine may be busy


def run(argv: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command to completion; fail the test with its output if it fails."""
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, argv))} (in {cwd}) exited with {done.returncode}\n"
            f"stdout:\n{done.stdout[-6000:]}\nstderr:\n{done.stderr[-6000:]}"
        )
    return done.stdout


def clean_env(venv: Path | None = None) -> dict[str, str]:
    """The environment of a user's shell: nothing of this repository's venv or pytest run."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTEST_ADDOPTS"}
        and not key.startswith(("PYTEST_", "HYPOTHESIS_", "COV_"))
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def assert_all_passed(pytest_output: str) -> None:
    summary = pytest_output.strip().splitlines()[-1]
    assert re.match(r"\d+ passed", summary), summary
    assert "failed" not in summary and "error" not in summary, summary


@dataclass
class Venv:
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def bin(self, name: str) -> Path:
        return self.path / "bin" / name

    @property
    def env(self) -> dict[str, str]:
        return clean_env(self.path)


def make_venv(path: Path) -> Venv:
    # The interpreter running this suite, outside its venv: python -m venv uses the base.
    run([sys.executable, "-m", "venv", path], cwd=path.parent)
    venv = Venv(path)
    # Dependency groups (`pip install --group test`) need pip 25.1 or newer.
    run([venv.python, "-m", "pip", "install", "--quiet", "pip>=25.1"], cwd=path, env=venv.env)
    return venv


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory outside the repository, holding ``dist/`` as the README expects."""
    path = tmp_path_factory.mktemp("install")
    assert ROOT not in path.parents
    return path


@pytest.fixture(scope="module")
def dist(work: Path) -> Path:
    out = work / "dist"
    run([ROOT / "dev", "dist", out], cwd=ROOT)
    return out


def wheel(dist: Path, name: str) -> Path:
    (path,) = dist.glob(f"{name.replace('-', '_')}-{VERSION}-py3-none-any.whl")
    return path


def sdist(dist: Path, name: str) -> Path:
    (path,) = dist.glob(f"{name.replace('-', '_')}-{VERSION}.tar.gz")
    return path


@pytest.fixture(scope="module")
def readme_venv(work: Path, dist: Path) -> Venv:
    """A venv with what the README's Install section installs, the way it says."""
    venv = make_venv(work / "venv")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = f'pip install --find-links dist "tincan[testing]=={VERSION}"'
    assert command in readme
    run(
        [venv.bin("pip"), "install", "--find-links", "dist", f"tincan[testing]=={VERSION}"],
        cwd=work,
        env=venv.env,
    )
    return venv


def test_every_distribution_is_built(dist: Path) -> None:
    built = sorted(p.name for p in dist.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    expected = sorted(
        [wheel(dist, name).name for name in DISTRIBUTIONS]
        + [sdist(dist, name).name for name in DISTRIBUTIONS]
    )
    assert built == expected


def test_twine_check_strict(dist: Path) -> None:
    files = sorted([*dist.glob("*.whl"), *dist.glob("*.tar.gz")])
    output = run([sys.executable, "-m", "twine", "check", "--strict", *files], cwd=dist)
    assert output.count("PASSED") == len(files) == 2 * len(DISTRIBUTIONS)


def wheel_metadata(path: Path) -> tuple[email.message.Message, list[str]]:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode("utf-8")
    return email.parser.Parser().parsestr(text), names


def sdist_metadata(path: Path) -> tuple[email.message.Message, dict[str, bytes]]:
    with tarfile.open(path) as archive:
        files: dict[str, bytes] = {}
        for member in archive.getmembers():
            content = archive.extractfile(member) if member.isfile() else None
            if content is not None:
                files[member.name.split("/", 1)[1]] = content.read()
    return email.parser.Parser().parsestr(files["PKG-INFO"].decode("utf-8")), files


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_metadata_of_wheel_and_sdist(dist: Path, name: str) -> None:
    license_text = (ROOT / "LICENSE").read_bytes()
    metadata, wheel_files = wheel_metadata(wheel(dist, name))
    sdist_info, sdist_files = sdist_metadata(sdist(dist, name))
    assert f"{name.replace('-', '_')}-{VERSION}.dist-info/licenses/LICENSE" in wheel_files
    assert sdist_files["LICENSE"] == license_text
    for info in (metadata, sdist_info):
        assert info["Name"] == name
        assert info["Version"] == str(VERSION)
        assert info["License-Expression"] == "MIT"
        assert info.get_all("License-File") == ["LICENSE"]
        assert info["Author"] == "The TinCan developers"
        assert info.get_all("Project-URL") == [
            "Original TinCan 0.1.1, https://pypi.org/project/TinCanFramework/0.1.1/"
        ]
        classifiers = info.get_all("Classifier") or []
        for python in ("3.11", "3.12", "3.13"):
            assert f"Programming Language :: Python :: {python}" in classifiers
        assert "Framework :: Bottle" in classifiers
        assert ("Framework :: Pytest" in classifiers) == (name == "tincan-testing")
        requirements = [Requirement(r) for r in info.get_all("Requires-Dist") or []]
        for requirement in requirements:
            if requirement.name.startswith("tincan"):
                assert requirement.specifier == SAME_MINOR, requirement
            if requirement.name == "chameleon":
                assert not requirement.specifier.contains("5.0"), requirement
        readme = info.get_payload()
        assert isinstance(readme, str) and "](../" not in readme
    # What uv needs inside the workspace means nothing in an sdist.
    shipped = tomllib.loads(sdist_files["pyproject.toml"].decode("utf-8"))
    assert "uv" not in shipped.get("tool", {})
    if name == "tincan":
        assert [n for n in wheel_files if ".dist-info/" not in n] == []
    if name == "tincan-core":
        assert "tincan/__init__.py" in wheel_files


def test_readme_install_passes_a_new_sites_own_tests(work: Path, readme_venv: Venv) -> None:
    venv = readme_venv
    versions = run(
        [
            venv.python,
            "-c",
            "import importlib.metadata as m; "
            "print(*(m.version(n) for n in ('tincan', 'tincan-core', 'tincan-static', "
            "'tincan-cli', 'tincan-testing')))",
        ],
        cwd=work,
        env=venv.env,
    )
    assert versions.split() == [str(VERSION)] * 5
    where = run(
        [
            venv.python,
            "-c",
            "import tincan, tincan_core; "
            "assert tincan.Page is tincan_core.Page; print(tincan.__file__)",
        ],
        cwd=work,
        env=venv.env,
    )
    assert Path(where.strip()).is_relative_to(venv.path)

    # What the new project's README says: its tests from the project directory, then
    # the check of its webapp.
    run([venv.bin("tincan"), "new", "site"], cwd=work, env=venv.env)
    output = run([venv.python, "-m", "pytest", "-q"], cwd=work / "site", env=venv.env)
    assert_all_passed(output)
    checked = run(
        [venv.bin("tincan"), "check", "--strict", "webapp"], cwd=work / "site", env=venv.env
    )
    assert "0 errors, 0 warnings" in checked


def test_tincan_cli_alone_compiles_code_behind_that_imports_tincan(work: Path, dist: Path) -> None:
    venv = make_venv(work / "venv-cli")
    run(
        [venv.bin("pip"), "install", "--find-links", "dist", f"tincan-cli=={VERSION}"],
        cwd=work,
        env=venv.env,
    )
    installed = run([venv.bin("pip"), "list", "--format=freeze"], cwd=work, env=venv.env)
    names = {line.split("==")[0].lower() for line in installed.splitlines()}
    assert {"tincan-cli", "tincan-core", "tincan-static"} <= names
    assert not names & {"tincan", "tincan-testing"}

    site = work / "cli-alone"
    site.mkdir()
    run([venv.bin("tincan"), "new", "site"], cwd=site, env=venv.env)
    assert "from tincan import Page" in (site / "site" / "webapp" / "index.py").read_text()
    output = run([venv.bin("tincan"), "compile", "site/webapp"], cwd=site, env=venv.env)
    assert "0 error(s)" in output and "code-behind module(s)" in output


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_sdist_tests_pass_on_their_own(
    work: Path, dist: Path, readme_venv: Venv, name: str
) -> None:
    venv = readme_venv
    unpacked = work / "sdists"
    unpacked.mkdir(exist_ok=True)
    with tarfile.open(sdist(dist, name)) as archive:
        archive.extractall(unpacked, filter="data")
    source = unpacked / f"{name.replace('-', '_')}-{VERSION}"
    assert (source / "tests").is_dir()
    # The package built from this sdist, then what its tests need (its `test` group).
    pip: list[str | Path] = [venv.bin("pip"), "install", "--quiet", "--find-links", dist]
    run([*pip, "--force-reinstall", "--no-deps", "."], cwd=source, env=venv.env)
    run([*pip, "--group", "test"], cwd=source, env=venv.env)
    output = run(
        [venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=source, env=venv.env
    )
    assert_all_passed(output)
