"""Named kill points for the crash tests (tests/chaos); inert unless STEWARD_CHAOS_PAUSE is set.

`chaos_point("resolve.crosswalk_written")` does nothing unless STEWARD_CHAOS_PAUSE names that
point. Then it touches the file STEWARD_CHAOS_MARKER names and sleeps, so a test can wait for the
marker and SIGKILL the process exactly there.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_ENV = "STEWARD_CHAOS_PAUSE"
MARKER_ENV = "STEWARD_CHAOS_MARKER"


def chaos_point(name: str) -> None:
    if os.environ.get(PAUSE_ENV) != name:
        return
    Path(os.environ[MARKER_ENV]).touch()
    time.sleep(600)  # the test kills the process well before this ends
