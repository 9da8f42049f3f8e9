"""A small HTTP/1.1 load generator, standard library only: requests per second.

    .venv/bin/python bench/loadgen.py http://127.0.0.1:18080/path [-H 'Cookie: …'] \
        [--connections 8] [--duration 4] [--warmup 0.5]

Each connection is its own process (so the generator is not held back by one GIL)
sending the same GET in a loop, on a kept-alive socket when the server keeps it open and
on a new one when it answers ``Connection: close`` (gunicorn's sync workers always do).
Responses are read by Content-Length or chunked framing, not parsed further. Requests
that complete during ``--warmup`` are not counted; those that complete in the
``--duration`` after it are. Anything but the expected status counts as an error. The
counted requests' latencies give the median and 95th percentile.

bench/pages.py calls ``run()``; on the command line it prints the result as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import re
import resource
import socket
import sys
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

START_DELAY = 0.15  # seconds for every process to be forked before the start
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
CHUNKED = re.compile(rb"\r\ntransfer-encoding:\s*chunked", re.IGNORECASE)
CLOSE = re.compile(rb"\r\nconnection:\s*close", re.IGNORECASE)


@dataclass
class LoadResult:
    requests: int  # completed in the measured window
    errors: int  # of those, answered with another status (or a broken connection)
    seconds: float  # the measured window
    connections_opened: int  # in the measured window
    client_cpu: float  # CPU seconds the generator's processes used in the window
    first_error: str = ""
    p50_ms: float = 0.0  # latency of the counted requests, from sending to the last byte
    p95_ms: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def client_cpus(self) -> float:
        """How many CPUs the generator kept busy during the window."""
        return self.client_cpu / self.seconds


def request_bytes(host: str, port: int, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept-Encoding: identity"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _Connection:
    """One socket to the server, reopened whenever the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.sock: socket.socket | None = None
        self.buffer = b""
        self.opened = 0

    def _open(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.opened += 1
        self.buffer = b""
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def _recv(self) -> bytes:
        assert self.sock is not None
        data = self.sock.recv(262144)
        if not data:
            raise ConnectionError("the server closed the connection mid-response")
        return data

    def _read_until(self, marker: bytes) -> bytes:
        while (end := self.buffer.find(marker)) < 0:
            self.buffer += self._recv()
        found, self.buffer = self.buffer[:end], self.buffer[end + len(marker) :]
        return found

    def _read_exactly(self, size: int) -> None:
        """Skip ``size`` bytes of the response (a body is not kept, only counted)."""
        if len(self.buffer) >= size:
            self.buffer = self.buffer[size:]
            return
        size -= len(self.buffer)
        self.buffer = b""
        while size > 0:
            data = self._recv()
            if len(data) > size:
                self.buffer = data[size:]
                return
            size -= len(data)

    def get(self, raw: bytes) -> int:
        """Send one request, read the whole response; its status."""
        if self.sock is None:
            self.sock = self._open()
        self.sock.sendall(raw)
        head = self._read_until(b"\r\n\r\n")
        status = int(head[9:12])  # b"HTTP/1.1 200 OK"
        if length := CONTENT_LENGTH.search(head):
            self._read_exactly(int(length.group(1)))
        elif CHUNKED.search(head):
            while size := int(self._read_until(b"\r\n").split(b";")[0], 16):
                self._read_exactly(size + 2)
            self._read_until(b"\r\n")  # no trailers are expected
        else:  # the body runs to the end of the connection
            while self.sock.recv(262144):
                pass
            self.close()
        if self.sock is not None and CLOSE.search(head):
            # Wait for the server's FIN so the server, not us, keeps the TIME_WAIT.
            while self.sock.recv(262144):
                pass
            self.close()
        return status


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _drive(
    host: str, port: int, raw: bytes, expect: int, start: float, begin: float, end: float, out
) -> None:
    """One connection's loop; puts (requests, errors, opened, cpu, first error, latencies
    in ms) on ``out``."""
    connection = _Connection(host, port)
    counted = errors = 0
    latencies: list[float] = []
    first_error = ""
    cpu_at_begin: float | None = None
    opened_before = 0
    time.sleep(max(0.0, start - time.monotonic()))
    while (now := time.monotonic()) < end:
        sent = now
        if cpu_at_begin is None and now >= begin:
            cpu_at_begin = _cpu()
            opened_before = connection.opened
        try:
            status = connection.get(raw)
            problem = "" if status == expect else f"status {status}"
        except (OSError, ValueError, IndexError) as exc:
            connection.close()
            problem = f"{type(exc).__name__}: {exc}"
        done = time.monotonic()
        if begin <= done < end:
            counted += 1
            latencies.append((done - sent) * 1000)
            if problem:
                errors += 1
                first_error = first_error or problem
    cpu = _cpu() - (cpu_at_begin if cpu_at_begin is not None else _cpu())
    connection.close()
    out.put((counted, errors, connection.opened - opened_before, cpu, first_error, latencies))


def run(
    host: str,
    port: int,
    raw: bytes,
    *,
    connections: int = 8,
    duration: float = 4.0,
    warmup: float = 0.5,
    expect: int = 200,
) -> LoadResult:
    """Drive ``raw`` (one complete GET) at the server from ``connections`` processes."""
    context = multiprocessing.get_context("fork")  # a small, single-threaded parent
    out = context.Queue()
    start = time.monotonic() + START_DELAY
    begin, end = start + warmup, start + warmup + duration
    workers = [
        context.Process(target=_drive, args=(host, port, raw, expect, start, begin, end, out))
        for _ in range(connections)
    ]
    for worker in workers:
        worker.start()
    rows = [out.get(timeout=duration + warmup + 60) for _ in workers]
    for worker in workers:
        worker.join()
    latencies = sorted(ms for row in rows for ms in row[5])
    return LoadResult(
        requests=sum(row[0] for row in rows),
        errors=sum(row[1] for row in rows),
        seconds=duration,
        connections_opened=sum(row[2] for row in rows),
        client_cpu=sum(row[3] for row in rows),
        first_error=next((row[4] for row in rows if row[4]), ""),
        p50_ms=_percentile(latencies, 0.50),
        p95_ms=_percentile(latencies, 0.95),
    )


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="http://host:port/path?query")
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--expect", type=int, default=200, help="the expected status (200)")
    args = parser.parse_args(argv)
    url = urlsplit(args.url)
    if url.scheme != "http" or not url.hostname:
        raise SystemExit("loadgen: give an http:// URL")
    port = url.port or 80
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    headers = dict(header.split(":", 1) for header in args.header)
    raw = request_bytes(
        url.hostname, port, path, {k.strip(): v.strip() for k, v in headers.items()}
    )
    result = run(
        url.hostname, port, raw, connections=args.connections, duration=args.duration,
        warmup=args.warmup, expect=args.expect,
    )  # fmt: skip
    print(json.dumps({**asdict(result), "rps": result.rps, "client_cpus": result.client_cpus}))
    return 0 if result.requests and not result.errors else 1


if __name__ == "__main__":
    sys.exit(main())
