"""Logging helpers the settings' LOGGING uses.

``OncePerOutage`` keeps a dependency's outage to one log record: django-redis logs every call
it ignores while Redis is unreachable ("Exception ignored", with a traceback), which is a
traceback per cache call, several per request, for as long as the outage lasts.
"""

from __future__ import annotations

import logging
import threading
import time

# A quiet spell this long without an ignored error ends an outage: the next error starts a new
# one, and is logged.
DEFAULT_QUIET_SECONDS = 60.0


class OncePerOutage(logging.Filter):
    """Let through the first record of an outage, then none until the errors stop for
    `quiet_seconds`. Records of other messages pass untouched.

    An outage is a run of records with `message` (the unformatted message) no further apart
    than `quiet_seconds`. The first is logged as a warning that names the outage, without its
    traceback (the exception's text is kept); a record summing up how many were left out is
    logged when the next outage starts. Counted per process.
    """

    def __init__(
        self,
        message: str = "Exception ignored",
        quiet_seconds: float = DEFAULT_QUIET_SECONDS,
        what: str = "Redis",
    ) -> None:
        super().__init__()
        self.message = message
        self.quiet_seconds = float(quiet_seconds)
        self.what = what
        self._lock = threading.Lock()
        self._last: float | None = None
        self._left_out = 0

    def reset(self) -> None:
        """Forget the current outage: the next error is logged."""
        with self._lock:
            self._last = None
            self._left_out = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != self.message:
            return True
        now = time.monotonic()
        with self._lock:
            ongoing = self._last is not None and now - self._last < self.quiet_seconds
            self._last = now
            if ongoing:
                self._left_out += 1
                return False
            left_out, self._left_out = self._left_out, 0
        error = record.exc_info[1] if record.exc_info else None
        record.msg = (
            "%s is unreachable (%s); calls degrade as configured, and further errors are not "
            "logged until it has answered for %.0f s"
        )
        record.args = (
            self.what,
            f"{type(error).__name__}: {error}" if error else "no detail",
            self.quiet_seconds,
        )
        if left_out:
            record.msg += "; %d errors of the previous outage were not logged"
            record.args = (*record.args, left_out)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = None
        record.exc_text = None
        return True
