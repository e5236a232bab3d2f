"""Helpers shared by benchmark scripts."""

from __future__ import annotations

import os
import resource
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def shared_data() -> Path:
    path = Path(os.environ.get("SFTAUDIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
    if not path.is_dir():
        sys.exit(f"shared datasets not found at {path} (set SFTAUDIT_SHARED_DATA)")
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class TreeRss:
    """The peak of the resident memory of this process and every process under it together (polled every
    ``interval`` s): an audit's per-sample scorers run in a pool of worker processes, whose memory ``peak_rss_mb``
    (this process alone) does not see."""

    def __init__(self, interval: float = 0.25):
        self.interval, self.peak_mb, self._since_mark, self._last = interval, 0.0, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        import psutil

        me = psutil.Process()
        while True:
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:  # a process that ended between the listing and the reading
                    pass
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._last = total / 2**20
            self._since_mark = max(self._since_mark, self._last)
            if self._stop.wait(self.interval):
                return

    def mark(self) -> float:
        """The peak since the previous mark (MB), and a new mark: the peak of one step of a run (a step shorter than
        the polling interval gets the last reading)."""
        peak, self._since_mark = max(self._since_mark, self._last), self._last
        return peak

    @staticmethod
    def own_peak_since_mark() -> float | None:
        """This process's own peak resident memory (MB) since the previous call, exact (the kernel's high-water
        mark, ``VmHWM``, which the call then resets through ``/proc/self/clear_refs``): a spike shorter than the
        polling interval is still seen.  ``None`` where /proc does not offer it."""
        try:
            with open("/proc/self/status", encoding="ascii") as fh:
                hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
            with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
                fh.write("5")
        except (OSError, StopIteration, ValueError):
            return None
        return hwm / 1024

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def write_outputs(out: object, directory: str | Path) -> None:
    """An audit's ``report.json`` and ``samples.jsonl`` in ``directory``, so two runs' bytes can be compared."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    (d / "report.json").write_text(out.report_json(), encoding="utf-8")  # type: ignore[attr-defined]
    with (d / "samples.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(out.samples_jsonl())  # type: ignore[attr-defined]
