"""Load test of ``smartmod serve``: throughput and latency under concurrent HTTP clients on loopback.

Starts the real server (``python -m smartmod.cli serve``, bundled default model unless
``--model``) on a free loopback port, then drives ``POST /v1/moderate`` with an asyncio client
over raw keep-alive HTTP/1.1 connections: one connection per simulated client, each sending its
next request as soon as the previous answer has arrived (a closed loop). Texts are sampled
(seeded) from the shared text datasets and the request bodies encoded before the clock starts,
so the client spends its time on sockets. For 1, 8 and 64 clients and 1- and 32-text requests it
prints requests/s, texts/s, p50 and p99 latency (from sending a request to its last byte) and
errors (a status other than 200, a broken connection).

Goals (issue 4): p50 <= 5 ms for one text at 1 client; >= 2,000 texts/s at 64 clients with
32-text requests; no errors.

    python bench/load_test.py [--seconds 10] [--workers 1] [--model default]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy

from smartmod.data.text_readers import read_all_text

CLIENTS = (1, 8, 64)
TEXTS_PER_REQUEST = (1, 32)
BODIES_PER_SCENARIO = 512  # distinct request bodies, cycled through


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, model: str, workers: int, log: Path) -> subprocess.Popen:
    """``smartmod serve`` in a subprocess, returned once ``/healthz`` answers."""
    command = [sys.executable, "-m", "smartmod.cli", "serve", "--port", str(port), "--model", model, "--workers", str(workers)]
    process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as reply:
                if reply.status == 200:
                    return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the server did not answer /healthz within 60 s:\n{log.read_text()}")


def request_bytes(port: int, texts: list[str]) -> bytes:
    body = json.dumps({"texts": texts}).encode()
    head = (f"POST /v1/moderate HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    return head + body


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response with a Content-Length; returns its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def client(port: int, requests: list[bytes], offset: int, stop_at: float, record_from: float, latencies: list[float],
                 errors: list[int]) -> None:
    """One closed-loop client on one keep-alive connection, reconnecting after an error."""
    index = offset
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.perf_counter() < stop_at:
        start = time.perf_counter()
        try:
            writer.write(requests[index % len(requests)])
            status = await read_response(reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            errors[0] += 1
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            continue
        end = time.perf_counter()
        index += 1
        if start >= record_from:
            latencies.append(end - start)
            if status != 200:
                errors[0] += 1
    writer.close()


async def scenario(port: int, requests: list[bytes], clients: int, seconds: float, warmup: float) -> dict[str, float]:
    """Run ``clients`` clients for ``warmup + seconds``; figures over the last ``seconds``."""
    now = time.perf_counter()
    record_from, stop_at = now + warmup, now + warmup + seconds
    latencies: list[float] = []
    errors = [0]
    await asyncio.gather(*(client(port, requests, offset * 7, stop_at, record_from, latencies, errors) for offset in range(clients)))
    measured = time.perf_counter() - record_from
    milliseconds = numpy.array(latencies) * 1000
    return {"requests_per_second": len(latencies) / measured, "p50_ms": float(numpy.percentile(milliseconds, 50)),
            "p99_ms": float(numpy.percentile(milliseconds, 99)), "errors": errors[0], "requests": len(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario (after a 2 s warm-up)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (smartmod serve --workers)")
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    corpus = [record.text for record in read_all_text() if record.language == "en"]
    rng = numpy.random.default_rng(0)
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "server.log"
        server = start_server(port, args.model, args.workers, log)
        try:
            print(f"smartmod serve --workers {args.workers} --model {args.model} on 127.0.0.1:{port}; client: asyncio, keep-alive HTTP/1.1; "
                  f"{os.cpu_count()} CPU cores; {args.seconds:g} s per row")
            print(f"{'clients':>7} {'texts/req':>9} {'requests/s':>11} {'texts/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
            rows = {}
            for texts_per_request in TEXTS_PER_REQUEST:
                requests = [request_bytes(port, [corpus[i] for i in rng.integers(0, len(corpus), texts_per_request)])
                            for _ in range(BODIES_PER_SCENARIO)]
                for clients in CLIENTS:
                    row = asyncio.run(scenario(port, requests, clients, args.seconds, warmup=2.0))
                    rows[(clients, texts_per_request)] = row
                    print(f"{clients:>7} {texts_per_request:>9} {row['requests_per_second']:>11,.0f} "
                          f"{row['requests_per_second'] * texts_per_request:>9,.0f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['errors']:>6}")
        finally:
            server.terminate()
            server.wait(timeout=30)
    single, batched = rows[(1, 1)], rows[(64, 32)]
    errors = sum(row["errors"] for row in rows.values())
    print(f"goal p50 <= 5 ms, 1 client, 1 text: {single['p50_ms']:.2f} ms -> {'met' if single['p50_ms'] <= 5 else 'MISSED'}")
    print(f"goal >= 2,000 texts/s, 64 clients, 32 texts: {batched['requests_per_second'] * 32:,.0f} texts/s -> "
          f"{'met' if batched['requests_per_second'] * 32 >= 2000 else 'MISSED'}")
    print(f"goal zero errors: {errors} -> {'met' if errors == 0 else 'MISSED'}")


if __name__ == "__main__":
    main()
