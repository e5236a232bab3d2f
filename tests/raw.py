"""``run_audit`` as the detector tests read it: every flag a scorer raises, before the precision gate of
``scorers/flags.py`` (``tests/test_flag_gate.py`` tests the gate itself)."""

from __future__ import annotations

from functools import partial

from scorers import run_audit as _run_audit

run_audit = partial(_run_audit, gate_flags=False)
