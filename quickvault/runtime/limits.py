"""The open-file limit of a worker process, raised to what its analyses in flight need.

Each analysis in flight holds two sockets: its client's and its model call's (at most
OPENAI_MAX_CONNECTIONS of those per worker). The soft limit many systems give a shell (1024) ends
a worker's accepting at about 500 analyses, with "Too many open files"; the hard limit is
usually far higher, and a process may raise its soft limit up to it, as the Go runtime does for
every program.
"""

from __future__ import annotations

import logging
import resource
from dataclasses import dataclass

logger = logging.getLogger(__name__)

SOCKETS_PER_ANALYSIS = 2
# The rest: the listening socket, database and Redis connections, log files, imported modules.
OTHER_OPEN_FILES = 256


@dataclass(frozen=True)
class OpenFileLimit:
    """The process's limits after ``raise_open_file_limit``, and what it wanted."""

    soft: int
    hard: int
    needed: int

    @property
    def enough(self) -> bool:
        return self.soft == resource.RLIM_INFINITY or self.soft >= self.needed


def needed_open_files() -> int:
    """What a worker holding OPENAI_MAX_CONNECTIONS analyses in flight may have open at once."""
    from django.conf import settings

    return SOCKETS_PER_ANALYSIS * settings.OPENAI_MAX_CONNECTIONS + OTHER_OPEN_FILES


def raise_open_file_limit(needed: int | None = None) -> OpenFileLimit:
    """Raise this process's soft RLIMIT_NOFILE to `needed` (by default ``needed_open_files()``),
    as far as the hard limit allows; never lower it. Logs a warning where the hard limit is
    too low: then raise it (``ulimit -Hn``, the container's nofile) or lower
    OPENAI_MAX_CONNECTIONS."""
    if needed is None:
        needed = needed_open_files()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as error:
            logger.warning("Could not raise the open-file limit to %d: %s", target, error)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = OpenFileLimit(soft=soft, hard=hard, needed=needed)
    if not limit.enough:
        logger.warning(
            "The open-file limit (%d) is below the %d that OPENAI_MAX_CONNECTIONS needs: past "
            "about %d analyses in flight this worker fails to accept connections.",
            soft,
            needed,
            max(0, soft - OTHER_OPEN_FILES) // SOCKETS_PER_ANALYSIS,
        )
    return limit
