"""The real ``smartmod serve`` in a subprocess on a free loopback port, and a raw HTTP client for it."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pytest

# Small limits, so the tests can pass each of them with small bodies.
TEST_LIMITS = {"max_body_bytes": 64 * 1024, "max_texts": 8, "max_text_chars": 1000}
STARTUP_SECONDS = 30
SHUTDOWN_SECONDS = 15


@dataclass
class Reply:
    """One HTTP response: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RunningServer:
    """``python -m smartmod.cli serve`` with its log in a file, stopped with SIGTERM."""

    def __init__(self, log_path: Path, *options: str):
        self.port = free_port()
        self.log_path = log_path
        self._log = open(log_path, "wb")
        command = [sys.executable, "-m", "smartmod.cli", "serve", "--port", str(self.port), *options]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._wait_until_healthy()

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.process.returncode} before answering:\n{self.log()}")
            try:
                if self.request("GET", "/healthz").status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        self.process.kill()
        raise RuntimeError(f"the server did not answer /healthz within {STARTUP_SECONDS} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(self, method: str, path: str, body: bytes | Iterable[bytes] | None = None, headers: dict[str, str] | None = None,
                chunked: bool = False) -> Reply:
        """Send one request on a new connection; an early answer (the server refusing a body) is still read."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            try:
                connection.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered before reading the whole body; its answer is waiting
            response = connection.getresponse()
            return Reply(response.status, {name.lower(): value for name, value in response.getheaders()}, response.read())
        finally:
            connection.close()

    def post_json(self, path: str, document: Any) -> Reply:
        return self.request("POST", path, json.dumps(document).encode(), {"Content-Type": "application/json"})

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def stop(self) -> int:
        """SIGTERM, then the exit status (the process is killed if it does not exit in time)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=SHUTDOWN_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


def limit_options() -> list[str]:
    return [option for name, value in TEST_LIMITS.items() for option in (f"--{name.replace('_', '-')}", str(value))]


@pytest.fixture(scope="module")
def server(tmp_path_factory, request) -> RunningServer:
    """One server per test module, with the bundled default model and ``TEST_LIMITS``; must exit 0 on SIGTERM."""
    running = RunningServer(tmp_path_factory.mktemp("serve") / "server.log", "--model", "default", *limit_options())

    def stop() -> None:
        status = running.stop()
        assert status == 0, f"the server exited with status {status} on SIGTERM:\n{running.log()}"

    request.addfinalizer(stop)
    return running
