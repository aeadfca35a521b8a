"""The README and docs/ point at things that exist.

Relative links must open a file, repository paths quoted in backticks must exist,
`beffroi …` command lines must name real sub-commands and options, and `make X`
must be a Makefile target.  Docs drift as the code moves; these checks read files
only (no network, no clock), so they cannot flake.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from beffroi.cli import COMMANDS

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
CODE_ROOTS = ("src", "tests", "bench", "scripts", "docs")

# Paths in backticks that name another project's file, not this repository's.
EXTERNAL = {
    ("docs/decisions/sources.md", "docs/README.md"),  # bluesky-social/jetstream's README
}

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.S)
_SPAN = re.compile(r"`([^`\n]+)`")
_REPO_PATH = re.compile(r"^(?:src|tests|bench|scripts|docs)/[\w./-]*[\w/]$")
_PY_NAME = re.compile(r"^[\w./-]*\w\.py$")
# A command line starts with the command itself, possibly behind a path (.venv/bin/).
_BEFFROI = re.compile(r"^(?:\S*/)?beffroi((?: [^\s]+)*)")
_MAKE = re.compile(r"^make ([a-z][\w-]*)")


def _rel(doc: Path) -> str:
    return doc.relative_to(REPO).as_posix()


@functools.cache
def _repo_files() -> list[str]:
    return [
        p.relative_to(REPO).as_posix()
        for top in CODE_ROOTS
        for p in (REPO / top).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]


def _spans(text: str) -> Iterator[str]:
    """Inline code spans outside fenced blocks."""
    yield from (m.group(1).strip() for m in _SPAN.finditer(_FENCE.sub("", text)))


def _command_lines(text: str) -> Iterator[str]:
    """Lines of fenced blocks (continuations joined) and inline code spans."""
    for m in _FENCE.finditer(text):
        for line in m.group(1).replace("\\\n", " ").splitlines():
            yield line.strip().removeprefix("$ ")
    yield from _spans(text)


@pytest.mark.parametrize("doc", DOCS, ids=_rel)
def test_relative_links_open_a_file(doc: Path) -> None:
    broken = []
    for m in _LINK.finditer(doc.read_text(encoding="utf-8")):
        target = m.group(1)
        if re.match(r"^[a-z][a-z+.-]*:", target) or target.startswith("#"):
            continue
        if not (doc.parent / target.split("#", 1)[0]).exists():
            broken.append(target)
    assert not broken, f"{_rel(doc)}: broken links {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=_rel)
def test_quoted_repository_paths_exist(doc: Path) -> None:
    files = _repo_files()
    missing = []
    for span in _spans(doc.read_text(encoding="utf-8")):
        if (_rel(doc), span) in EXTERNAL:
            continue
        if _REPO_PATH.match(span):
            if not ((REPO / span).exists() or (doc.parent / span).exists()):
                missing.append(span)
        elif _PY_NAME.match(span):
            # A module named by its tail (`runner.py`, `sources/base.py`): some file of
            # the repository ends with it.
            tail = span.removeprefix("./")
            if not any(f == tail or f.endswith("/" + tail) for f in files):
                missing.append(span)
    assert not missing, f"{_rel(doc)}: paths that do not exist {missing}"


def _parser_for(words: list[str]) -> tuple[list[str], argparse.ArgumentParser | None]:
    """Walk COMMANDS along ``words``; return the command's path and its parser."""
    tree: Mapping[str, object] = COMMANDS
    path: list[str] = []
    for word in words:
        entry = tree.get(word)
        if entry is None:
            break
        path.append(word)
        if isinstance(entry, Mapping):
            tree = entry
            continue
        assert isinstance(entry, tuple)
        parser = argparse.ArgumentParser()
        importlib.import_module(entry[0]).add_arguments(parser)
        return path, parser
    return path, None


@pytest.mark.parametrize("doc", DOCS, ids=_rel)
def test_beffroi_commands_and_options_exist(doc: Path) -> None:
    wrong = []
    for line in _command_lines(doc.read_text(encoding="utf-8")):
        m = _BEFFROI.match(line)
        if not m:
            continue
        words = m.group(1).split()
        if not words or words[0] in {"--version", "--help", "-h"}:
            continue
        path, parser = _parser_for(words)
        if parser is None:
            wrong.append(f"no such command: {line}")
            continue
        if path == ["manage"]:
            continue  # Django's own commands and options
        known = set(parser._option_string_actions)
        rest = " ".join(words[len(path) :])
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest):
            if option not in known:
                wrong.append(f"{' '.join(path)} has no {option}: {line}")
    assert not wrong, f"{_rel(doc)}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("doc", DOCS, ids=_rel)
def test_make_targets_exist(doc: Path) -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    unknown = [
        m.group(1)
        for line in _command_lines(doc.read_text(encoding="utf-8"))
        if (m := _MAKE.match(line)) and m.group(1) not in targets
    ]
    assert not unknown, f"{_rel(doc)}: make targets that do not exist {unknown}"


def test_the_checks_see_what_they_check() -> None:
    """Guard against a regex that silently matches nothing."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert any(_BEFFROI.match(line) for line in _command_lines(readme))
    assert any(_MAKE.match(line) for line in _command_lines(readme))
    assert _LINK.search(readme)
    assert _parser_for(["verify"])[1] is not None
    assert _parser_for(["nonexistent"])[1] is None


# Read from the environment but not for operators to set.
UNDOCUMENTED_ENV = {
    "BEFFROI_DEMO_URL",  # set by `beffroi demo` itself, for the links it prints
    "BEFFROI_WORKER_PARENT_PID",  # set by `beffroi serve` for the worker it starts
}
_ENV_READ = re.compile(
    r"(?:os\.environ(?:\.get|\.setdefault|\.pop)?\s*[(\[]|getenv\(|_setting\()\s*\"(BEFFROI_\w+)\""
)
# A name held in a module constant, whatever the constant is called and however it is read
# (os.environ.get(OLD_SECRET_VARIABLE), env.get(PROXY_ENV), os.environ.pop(serve.PARENT_ENV)):
# a pattern on the constant's name (…ENV) missed BEFFROI_OLD_PSEUDONYM_KEY. The Django
# settings read with getattr(settings, "BEFFROI_…") are written in place, never held in one.
_ENV_CONST = re.compile(r"^[A-Z][A-Z0-9_]*\s*(?::[^=\n]+)?=\s*\"(BEFFROI_\w+)\"", re.M)


def environment_variables_read(sources: dict[str, str]) -> set[str]:
    """BEFFROI_* names the code reads from the environment."""
    read: set[str] = set()
    for text in sources.values():
        read |= set(_ENV_READ.findall(text)) | set(_ENV_CONST.findall(text))
    return read


def test_every_environment_variable_the_code_reads_is_in_the_readme() -> None:
    """The README's configuration table says all settings come from the environment."""
    sources = {
        str(path): path.read_text(encoding="utf-8")
        for path in (REPO / "src" / "beffroi").rglob("*.py")
    }
    read = environment_variables_read(sources)
    for name in (
        "BEFFROI_EMAIL_BACKEND",
        "BEFFROI_SOURCES_PROXY",
        "BEFFROI_OLD_PSEUDONYM_KEY",
        "BEFFROI_WORKER_PARENT_PID",
    ):
        assert name in read, name
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = sorted(v for v in read - UNDOCUMENTED_ENV if f"`{v}`" not in readme)
    assert not missing, f"read from the environment, not in the README's table: {missing}"


def test_the_environment_scan_tells_a_constant_from_a_setting() -> None:
    sources = {
        "a.py": 'SECRET_VARIABLE = "BEFFROI_A"\nx = os.environ.get(SECRET_VARIABLE, "")\n',
        "b.py": 'PID: str = "BEFFROI_B"  # noqa: S105\n',
        "c.py": 'x = os.environ.pop("BEFFROI_C", None)\n',
        "d.py": 'n = getattr(settings, "BEFFROI_D", 3)\nprint("BEFFROI_E")\n',
    }
    assert environment_variables_read(sources) == {"BEFFROI_A", "BEFFROI_B", "BEFFROI_C"}


def test_the_user_guides_speak_to_users() -> None:
    """The French guides are read by volunteers and town-hall staff: the project's
    session numbers mean nothing to them (decisions may keep their history)."""
    jargon = [
        f"{_rel(doc)}: {m.group(0)}"
        for doc in sorted((REPO / "docs" / "guide").glob("*.md"))
        for m in re.finditer(r"\bsessions? \d+", doc.read_text(encoding="utf-8"))
    ]
    assert not jargon, jargon
