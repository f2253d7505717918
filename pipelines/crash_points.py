"""Named points where the reliability suite kills a run the way a power cut would.

With ``$YECAI_CRASH_AT`` set to a point's name, the first pass through that point sends
SIGKILL to the whole process group: the run, and dbt if it is running. No clean-up code
runs, so the test sees exactly what a crash leaves behind (tests/reliability/). Unset, a
point costs one environment lookup. The process must lead its own group (the suite starts
``yecai run`` in a new session), or the point refuses rather than kill its parent.
"""

from __future__ import annotations

import os
import signal

CRASH_AT_ENV = "YECAI_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_AT_ENV) != name:
        return
    if os.getpgrp() != os.getpid():
        raise RuntimeError(
            f"${CRASH_AT_ENV}={name}: this process does not lead its process group, so "
            "killing the group would kill its parent too; start it in a new session"
        )
    os.killpg(os.getpgrp(), signal.SIGKILL)
