"""How far a job is and how long it has left: the ETA estimate, and the throttle in front of the job row.

A handler may report progress as often as it likes (a scorer reports from inside its loops); the job row
hears about it at most once per ``interval`` seconds, and never lags the job by more than that: a report
that comes too soon is held and written when the interval is up.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

log = logging.getLogger("sftaudit.progress")


class Eta:
    """Seconds left, from the time since the first report and the fraction done since then, smoothed.

    The raw estimate is ``elapsed × (1 − fraction) / (fraction gained)``: the average rate since the start,
    which already irons out the bumps between inner steps. The estimate then counts down with the clock between
    reports and moves ``smoothing`` of the way toward each new raw value, so one slow or fast stretch (a scorer
    whose cost hint was off) bends it instead of making it jump. ``None`` until there is enough to go on
    (``min_fraction`` gained over at least ``min_seconds``).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        smoothing: float = 0.3,
        min_fraction: float = 0.01,
        min_seconds: float = 1.0,
    ):
        self.clock, self.smoothing = clock, smoothing
        self.min_fraction, self.min_seconds = min_fraction, min_seconds
        self._start: tuple[float, float] | None = None  # (time, fraction) of the first report
        self._value: float | None = None
        self._at = 0.0

    def update(self, fraction: float) -> float | None:
        now = self.clock()
        if self._start is None:
            self._start = (now, fraction)
            return None
        if fraction >= 1.0:
            self._value, self._at = 0.0, now
            return 0.0
        t0, f0 = self._start
        elapsed, gained = now - t0, fraction - f0
        if gained < self.min_fraction or elapsed < self.min_seconds:
            return self.current(now)
        raw = elapsed * (1.0 - fraction) / gained
        if self._value is None:
            self._value = raw
        else:
            predicted = max(0.0, self._value - (now - self._at))
            self._value = predicted + self.smoothing * (raw - predicted)
        self._at = now
        return max(0.0, self._value)

    def current(self, now: float | None = None) -> float | None:
        """The last estimate, counted down to ``now``."""
        if self._value is None:
            return None
        return max(0.0, self._value - ((self.clock() if now is None else now) - self._at))


def format_eta(seconds: float | None) -> str:
    """``"ETA 3 min 20 s"``-style text for a progress line (empty while unknown)."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    s = round(seconds)
    if s >= 3600:
        return f"ETA {s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"ETA {s // 60} min {s % 60:02d} s"
    return f"ETA {s} s"


Write = Callable[[float, str, "float | None"], None]


class Throttle:
    """Passes ``(fraction, step, eta)`` reports to ``write`` at most once per ``interval`` seconds.

    A report that comes sooner replaces the one held back, and a timer writes it when the interval is up,
    so the last thing a handler said before a long silent stretch is what the row shows. ``write`` runs
    under a lock: reports reach the row in the order they were made.
    """

    def __init__(self, write: Write, interval: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.write, self.interval, self.clock = write, interval, clock
        self._lock = threading.Lock()
        self._last = -math.inf
        self._held: tuple[float, str, float | None] | None = None
        self._timer: threading.Timer | None = None

    def __call__(self, fraction: float, step: str, eta: float | None) -> None:
        with self._lock:
            now = self.clock()
            wait = self._last + self.interval - now
            if wait > 0:
                self._held = (fraction, step, eta)
                if self._timer is None:
                    self._timer = threading.Timer(wait, self._flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
            self._held = None
            self._last = now
            self._write(fraction, step, eta)

    def _flush(self) -> None:
        with self._lock:
            self._timer = None
            held, self._held = self._held, None
            if held is not None:
                self._last = self.clock()
                self._write(*held)

    def _write(self, fraction: float, step: str, eta: float | None) -> None:
        try:
            self.write(fraction, step, eta)
        except Exception:  # a progress report is best effort; the job goes on (and so does the timer thread)
            log.warning("progress report not recorded", exc_info=True)

    def close(self) -> None:
        """Write what is held now and stop the timer."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        self._flush()
