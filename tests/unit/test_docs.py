"""The documentation keeps up with the code (after datasette's tests/test_docs.py).

Every CLI command and subcommand is in docs/cli.md, every setting and STEWARD_* variable is in
docs/administration.md, every page has a section in docs/user-guide.md, the README stays short,
and no relative link in the README or docs/ points at a missing file.
"""
from __future__ import annotations

import argparse
import re
from dataclasses import fields
from pathlib import Path

import pytest

from governance.cli import build_parser
from governance.store.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
README_MAX_BYTES = 8_000
INVOCATION = "python -m governance"


def command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command of `parser` as a path: ("init",), ("review",), ("review", "approve"), …"""
    group = parser._subparsers
    if group is None:
        return []
    paths = []
    for action in group._group_actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths.append((*prefix, name))
                paths.extend(command_paths(sub, (*prefix, name)))
    return paths


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    group = parser._subparsers
    actions = group._group_actions if group is not None else []
    return {name: sub for a in actions if isinstance(a, argparse._SubParsersAction) for name, sub in a.choices.items()}


def mentions(text: str, phrase: str) -> bool:
    """`phrase` occurs as whole words: `golden override` is not found in `golden overrides`."""
    return re.search(re.escape(phrase) + r"(?![\w-])", text) is not None


def undocumented(parser: argparse.ArgumentParser, text: str) -> list[str]:
    return [" ".join(path) for path in command_paths(parser) if not mentions(text, f"{INVOCATION} {' '.join(path)}")]


COMMANDS = command_paths(build_parser())
SETTINGS = fields(Settings)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_the_parser_walk_finds_nested_commands():
    assert ("review", "approve") in COMMANDS and ("init",) in COMMANDS and ("audit", "verify") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_cli_command_is_documented(path):
    assert mentions(read(DOCS / "cli.md"), f"{INVOCATION} {' '.join(path)}"), \
        f"docs/cli.md does not mention `{INVOCATION} {' '.join(path)}`"


def test_a_missing_command_is_noticed():
    text = re.sub(re.escape(f"{INVOCATION} golden override") + r"(?![\w-])", "", read(DOCS / "cli.md"))
    assert undocumented(build_parser(), text) == ["golden override"]


def test_cli_docs_name_no_command_that_does_not_exist():
    parser = build_parser()
    top = subcommands(parser)
    stale = []
    for first, second in re.findall(re.escape(INVOCATION) + r" ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?",
                                    "\n".join(read(p) for p in [README, *DOCS.glob("*.md")])):
        if first not in top:
            stale.append(first)
        elif second and subcommands(top[first]) and second not in subcommands(top[first]):
            stale.append(f"{first} {second}")
    assert stale == []


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda f: f.name)
def test_setting_is_documented(setting):
    text = read(DOCS / "administration.md")
    assert setting.metadata["env"] in text, f"docs/administration.md does not mention {setting.metadata['env']}"
    assert f"`{setting.name}`" in text, f"docs/administration.md does not mention the setting `{setting.name}`"


def test_every_environment_variable_is_documented():
    code = [ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("governance/**/*.py")]
    used = {name for path in code for name in re.findall(r"\bSTEWARD_[A-Z][A-Z0-9_]*", read(path))}
    text = read(DOCS / "administration.md")
    assert sorted(name for name in used if name not in text) == []


@pytest.mark.parametrize("page", sorted(p.name for p in ROOT.glob("pages/*.py")))
def test_page_has_a_section_in_the_user_guide(page):
    assert f"pages/{page}" in read(DOCS / "user-guide.md")


def test_readme_is_short():
    assert README.stat().st_size < README_MAX_BYTES


LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


@pytest.mark.parametrize("document", [README, *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name)
def test_relative_links_point_to_files(document):
    broken = []
    for target in LINK.findall(read(document)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL, or an anchor in the same page
        if not (document.parent / target.split("#")[0]).exists():
            broken.append(target)
    assert broken == []
