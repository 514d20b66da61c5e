"""Locked dependencies: make installs from a hashed lock file that covers every dependency in
pyproject.toml, and the Dockerfile builds from the runtime lock, on a pinned base image, with a
health check on /readyz."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _locked(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", text, re.M))
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", text)
    assert all("--hash=sha256:" in b for b in blocks if "==" in b.split("\n")[0])
    return {k.lower().replace("_", "-"): v for k, v in pins.items()}


def _names(requirements: list[str]) -> set[str]:
    return {
        re.split(r"[\[<>=~!; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements
    }


def test_lock_files_pin_every_dependency_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _names(project["dependencies"])
    dev = _names(project["optional-dependencies"]["dev"])
    assert runtime <= set(_locked("requirements.lock"))
    assert runtime | dev <= set(_locked("requirements-dev.lock"))


def test_make_and_docker_install_from_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements-dev.lock" in makefile
    assert "--no-deps -e ." in makefile and "\nlock:" in makefile
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes" in dockerfile and "requirements.lock" in dockerfile
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert bases and all(re.fullmatch(r"python:3\.11\.\d+-slim-\w+", b) for b in bases), bases
    assert "/readyz" in dockerfile.split("HEALTHCHECK", 1)[1]
