"""Starting, probing and stopping the cluster's servers as child processes, and finding them free ports.

Written for the fault tests as much as for `make cluster`: each server can be killed on purpose (SIGKILL, as a
crash), restarted, and waited for until its own readiness probe answers.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from liptwitch import settings

START_TIMEOUT = 300  # seconds: two Rasa servers load TensorFlow and the model side by side on 2 cores
DEBIAN_PACKAGES = "postgresql nginx-light redis-server"


class ClusterError(RuntimeError):
    """Something the person starting the cluster can act on; the message says what."""


_PORTS_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A free port below the range the kernel takes outgoing connections' ports from. In that range, a client
    polling a server's port before the server listens can be given that very port as its own and connect to itself
    (TCP's simultaneous open), which then holds the port and the server cannot bind it."""
    lowest_outgoing = outgoing_ports()[0]
    if lowest_outgoing <= 11_000:  # an unusual range: any free port the kernel picks
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]
    for _ in range(200):
        port = random.randrange(10_000, lowest_outgoing)
        if port in _PORTS_HANDED_OUT:  # handed out, maybe not bound yet
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("0.0.0.0", port))  # as the servers bind: free on every interface
            except OSError:
                continue
        _PORTS_HANDED_OUT.add(port)
        return port
    raise ClusterError(f"no free port between 10000 and {lowest_outgoing}")


def outgoing_ports() -> tuple[int, int]:
    """The range of ports the kernel gives outgoing connections (Linux's default if it cannot be read)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def postgres_bin() -> Path:
    """PostgreSQL's server programs (Debian keeps them out of PATH)."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "postgres").is_file() and (candidate / "initdb").is_file():
            return candidate
    raise ClusterError(f"PostgreSQL's server is not installed: run `make cluster-packages` "
                       f"(apt-get install {DEBIAN_PACKAGES})")


def program(name: str) -> str:
    found = shutil.which(name) or next((str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name)
                                        if p.is_file()), None)
    if not found:
        raise ClusterError(f"{name} is not installed: run `make cluster-packages` (apt-get install {DEBIAN_PACKAGES})")
    return found


@dataclass
class Process:
    """One server of the cluster: started, checked for readiness, stopped or killed on purpose."""

    name: str
    command: list[str]
    log: Path
    ready: Callable[[], bool]
    environment: dict[str, str] = field(default_factory=dict)
    stop_signal: int = signal.SIGTERM
    user: str | None = None  # run as this user (PostgreSQL, when we are root)
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as handle:
            self.process = subprocess.Popen(self.command, cwd=settings.REPO, env={**os.environ, **self.environment},
                                            stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, user=self.user, group=self.user)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def is_ready(self) -> bool:
        if not self.running:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise ClusterError(f"the {self.name} stopped while starting; the end of {self.log}:\n{tail}")
        try:
            return self.ready()
        except Exception:  # noqa: BLE001 - not ready yet, whatever the probe says
            return False

    def signal(self, number: int) -> None:
        if self.running:
            os.killpg(self.process.pid, number)

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is flushed, no request is finished."""
        self.signal(signal.SIGKILL)
        if self.process:
            self.process.wait()

    def stop(self, timeout: float = 20) -> None:
        if not self.running:
            return
        self.signal(self.stop_signal)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def wait_until_ready(processes: list[Process], timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(processes)
    while waiting:
        waiting = [p for p in waiting if not p.is_ready()]
        if waiting and time.monotonic() > deadline:
            raise ClusterError(f"not ready after {timeout:.0f} s: {', '.join(p.name for p in waiting)} "
                               f"(logs in {waiting[0].log.parent})")
        if waiting:
            time.sleep(0.5)


def http_ok(url: str) -> bool:
    import requests

    return requests.get(url, timeout=2).ok
