"""A real two-node Ray cluster on this one machine, for the Ray tests and bench/ray_audit.py.

``ray start --head`` then ``ray start --address`` (each ``--block``, in its own process group), with ports of our
own so that it never meets another cluster on the machine; stopped by the process groups it started — never by
``ray stop``, which would stop every Ray process on the machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
#: a throwaway cluster on one machine: no usage stats, and no token authentication (Ray 2.5x turns it on by default and
#: keeps the token in ~/.ray; a real cluster keeps it, see docs/scale.md). The driver's environment needs the same.
OBJECT_STORE = 1 << 30  # bytes of shared memory per node (blocks and chunks are small)
LOCAL_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TwoNodeCluster:
    """A head and one more node, ``cpus`` each; ``address`` is what ``ray.init`` joins."""

    def __init__(self, cpus: int = 1, head_cpus: int | None = None):
        self.cpus, self.head_cpus = cpus, cpus if head_cpus is None else head_cpus
        self.procs: list[subprocess.Popen] = []
        self.address = f"127.0.0.1:{free_port()}"  # the node's own address once started
        self.temp_dir = tempfile.mkdtemp(prefix="sftaudit-ray-")
        self._env: dict[str, str | None] = {}

    def _start(self, *args: str) -> None:
        env = {**os.environ, **LOCAL_ENV}
        self.procs.append(
            subprocess.Popen(
                [RAY, "start", "--block", "--disable-usage-stats", *args],
                env=env,
                stdout=open(Path(self.temp_dir) / f"node-{len(self.procs)}.log", "wb"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def start(self, timeout: float = 120.0) -> TwoNodeCluster:
        from scorers._ray_backend import node_ip

        self._env = {k: os.environ.get(k) for k in LOCAL_ENV}
        os.environ.update(LOCAL_ENV)
        port = self.address.rsplit(":", 1)[1]
        self.address = f"{node_ip()}:{port}"  # Ray turns 127.0.0.1 into the node's address anyway
        self._start(
            "--head",
            f"--port={port}",
            f"--num-cpus={self.head_cpus}",
            "--num-gpus=0",
            "--include-dashboard=false",
            f"--object-store-memory={OBJECT_STORE}",
            f"--temp-dir={self.temp_dir}",
            f"--node-manager-port={free_port()}",
            f"--object-manager-port={free_port()}",
        )
        self._wait_nodes(1, timeout)
        self._start(
            f"--address={self.address}",
            f"--num-cpus={self.cpus}",
            "--num-gpus=0",
            f"--object-store-memory={OBJECT_STORE}",
            f"--node-manager-port={free_port()}",
            f"--object-manager-port={free_port()}",
        )
        self._wait_nodes(2, timeout)
        return self

    def _wait_nodes(self, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"a ray node exited while starting (logs: {self.temp_dir}/node-*.log)")
            host, port = self.address.rsplit(":", 1)
            try:  # a driver that joins before the head listens waits a minute: knock first
                socket.create_connection((host, int(port)), timeout=1).close()
            except OSError:
                time.sleep(0.5)
                continue
            probe = subprocess.run(
                [sys.executable, "-c", _COUNT_NODES, self.address], capture_output=True, text=True, timeout=60
            )
            if probe.returncode == 0 and probe.stdout.strip().isdigit() and int(probe.stdout) >= n:
                return
            time.sleep(1.0)
        raise TimeoutError(f"the ray cluster did not reach {n} nodes in {timeout:.0f} s")

    def stop(self) -> None:
        """The driver leaves first (a driver whose cluster vanishes aborts its process a minute later)."""
        if "ray" in sys.modules and sys.modules["ray"].is_initialized():
            sys.modules["ray"].shutdown()
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            try:
                p.wait(5)  # a node would drain for up to 30 s: nothing of a throwaway cluster needs keeping
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
        self.procs.clear()
        for k, v in self._env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if not os.environ.get("SFTAUDIT_KEEP_RAY_LOGS"):
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __enter__(self) -> TwoNodeCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


_COUNT_NODES = """
import sys, ray
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
print(sum(1 for n in ray.nodes() if n["Alive"]))
"""
