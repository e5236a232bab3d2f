"""``sftaudit serve``'s worker processes: one or more per lane, restarted when they die, stopped with it.

A worker that exits while ``serve`` runs (a crash, an out-of-memory kill, a bug) is restarted after
``worker.restart_backoff_seconds`` (doubling while it keeps dying soon after a start, up to a minute),
and every restart is logged. Stopping sends SIGTERM (each worker hands its running job back to the
queue), waits ``worker.stop_grace_seconds`` plus a margin, then SIGKILLs what is left. Workers also
watch ``serve``'s pid, so even a ``kill -9`` of ``serve`` leaves no worker polling the database.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger("sftaudit.serve")

MAX_BACKOFF = 60.0
#: a worker that ran at least this long before dying is restarted after the base backoff again
STABLE_SECONDS = 60.0


@dataclass
class Slot:
    lane: str
    number: int
    proc: subprocess.Popen | None = None
    started: float = 0.0
    backoff: float = 0.0
    restart_at: float | None = None
    restarts: int = 0
    history: list[int] = field(default_factory=list)  # exit codes seen

    @property
    def name(self) -> str:
        return f"worker {self.lane}#{self.number}"


class Supervisor:
    def __init__(self, lanes: dict[str, int], *, backoff: float, grace: float, env: dict[str, str] | None = None):
        self.slots = [Slot(lane, i) for lane, n in lanes.items() for i in range(1, n + 1)]
        self.base_backoff, self.grace = backoff, grace
        self.env = dict(env if env is not None else os.environ)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="worker-supervisor")

    def _spawn(self, slot: Slot) -> None:
        cmd = [sys.executable, "-m", "app.cli", "worker", "--lane", slot.lane, "--parent-pid", str(os.getpid())]
        slot.proc = subprocess.Popen(cmd, env=self.env)
        slot.started, slot.restart_at = time.monotonic(), None
        log.info("%s started (pid %d)", slot.name, slot.proc.pid)

    def start(self) -> None:
        with self._lock:
            for slot in self.slots:
                self._spawn(slot)
        self._thread.start()

    def pids(self) -> list[int]:
        return [s.proc.pid for s in self.slots if s.proc is not None and s.proc.poll() is None]

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            with self._lock:
                now = time.monotonic()
                for slot in self.slots:
                    if self._stopping.is_set():
                        return
                    if slot.restart_at is not None:
                        if now >= slot.restart_at:
                            slot.restarts += 1
                            log.warning("%s: restart #%d", slot.name, slot.restarts)
                            self._spawn(slot)
                        continue
                    code = slot.proc.poll() if slot.proc is not None else None
                    if code is None:
                        continue
                    slot.history.append(code)
                    ran = now - slot.started
                    slot.backoff = (
                        self.base_backoff
                        if ran >= STABLE_SECONDS or not slot.backoff
                        else min(slot.backoff * 2, MAX_BACKOFF)
                    )
                    slot.restart_at = now + slot.backoff
                    log.error(
                        "%s (pid %d) exited with code %s after %.0f s; restarting in %.1f s",
                        slot.name,
                        slot.proc.pid,  # type: ignore[union-attr]
                        code,
                        ran,
                        slot.backoff,
                    )

    def stop(self) -> None:
        """SIGTERM every worker (they hand their jobs back), then SIGKILL whatever outlives the grace time."""
        self._stopping.set()
        with self._lock:
            procs = [s.proc for s in self.slots if s.proc is not None and s.proc.poll() is None]
            for p in procs:
                try:
                    p.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + self.grace + 5
            for p in procs:
                try:
                    p.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    log.error("worker pid %d did not stop in time; killing it", p.pid)
                    p.kill()
                    p.wait(5)
        if self._thread.is_alive():
            self._thread.join(2)
