"""Command line for tags: `python -m governance tags …` and `python -m governance scorecard`."""
from __future__ import annotations

import argparse
from collections.abc import Callable

WithActor = Callable[[argparse.ArgumentParser], argparse.ArgumentParser]


def register(sub, with_actor: WithActor) -> None:
    """Add the `tags` and `scorecard` commands to the top-level subparsers."""
    p = sub.add_parser("tags", help="the tag library: definitions, approvals, values, source mappings")
    tsub = p.add_subparsers(dest="tags_cmd", required=True)
    _register_library(tsub, with_actor)
    _register_compute(tsub, with_actor)
    _register_source_tags(tsub, with_actor)
    _register_scorecard(sub, with_actor)


# ---- library: list, show, add, submit, approve, reject, deprecate, retire -------------------------

def _register_library(tsub, with_actor: WithActor) -> None:
    pass


# ---- compute and values -------------------------------------------------------------------------------

def _register_compute(tsub, with_actor: WithActor) -> None:
    pass


# ---- source tag mappings ------------------------------------------------------------------------------

def _register_source_tags(tsub, with_actor: WithActor) -> None:
    pass


# ---- scorecard ----------------------------------------------------------------------------------------

def _register_scorecard(sub, with_actor: WithActor) -> None:
    pass
