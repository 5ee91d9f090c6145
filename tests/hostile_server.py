"""A gateway that misbehaves on purpose, on raw asyncio sockets bound to 127.0.0.1.

The first path segment picks the misbehaviour (``/hang/v1beta/models/m:generateContent``), so one server
serves them all and a base URL such as ``http://127.0.0.1:PORT/hang`` aims a run at one of them; ``/chaos``
rotates through every behaviour request by request. Each behaviour answers any request after its first
segment (any method and path, either protocol, any request body), so a whole-suite run can be aimed at it.
Every request line and header block is recorded in ``seen`` so tests can prove what reached the server;
request bodies are read and dropped, never held.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType

GOOD_BODY = json.dumps(
    {
        "candidates": [
            {
                "content": {"parts": [{"text": "PINEAPPLE"}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 1, "totalTokenCount": 6},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "hostile",
    }
).encode()
HUGE_BYTES = 100 * 1024 * 1024
CHUNK = b" " * 65536
ENDLESS_BATCH = 32
"""Events per chunk of the endless stream (about 11 KB, one every 10 ms or more)."""
GARBAGE = random.Random(10).randbytes(4096).replace(b"\r", b"").replace(b"\n", b"") + b"\r\n\r\n"
"""Bytes that are not an HTTP response: one 4 KB line of noise where the status line should be."""


def second_host() -> str:
    """A loopback address other than 127.0.0.1 when this machine has one (Linux does), for a second host."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.2", 0))
        except OSError:
            return "127.0.0.1"
    return "127.0.0.2"


@dataclass(frozen=True)
class Seen:
    """A request as it reached the server."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    host: str


@dataclass
class HostileServer:
    """The misbehaving gateway, served from a background thread with its own event loop."""

    host: str = "127.0.0.1"
    redirect_to: str = "http://localhost:9"
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.Server | None = None
    _counter: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, behaviour: str) -> str:
        return f"{self.base_url}/{behaviour}"

    def __enter__(self) -> HostileServer:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(asyncio.start_server(self._handle, self.host, self.port))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            self._server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

        self._thread = threading.Thread(target=serve, name="hostile-gateway", daemon=True)
        self._thread.start()
        if not ready.wait(5):
            raise RuntimeError("hostile server did not start")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._loop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = tuple(
                    (k.strip().lower(), v.strip())
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                )
                await _drop_body(reader, dict(headers))
                self.seen.append(Seen(method, target, headers, dict(headers).get("host", "")))
                behaviour = target.lstrip("/").split("/", 1)[0]
                if behaviour == "chaos":
                    behaviour = CHAOS[self._counter % len(CHAOS)]
                    self._counter += 1
                handler = BEHAVIOURS.get(behaviour, _good)
                keep = await handler(self, target, writer)
                if not keep:
                    break
        except (
            asyncio.IncompleteReadError,
            ConnectionError,
            asyncio.CancelledError,
            asyncio.LimitOverrunError,
        ):
            pass
        finally:
            writer.close()


Handler = Callable[[HostileServer, str, asyncio.StreamWriter], Awaitable[bool]]


async def _drop_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> None:
    """Read a request body (Content-Length or chunked) piece by piece and drop it: uploads cost nothing."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            await _skip(reader, size + 2)  # the chunk and its CRLF
            if size == 0:
                return
    await _skip(reader, int(headers.get("content-length", "0")))


async def _skip(reader: asyncio.StreamReader, count: int) -> None:
    while count > 0:
        piece = await reader.read(min(count, 1 << 16))
        if not piece:
            raise asyncio.IncompleteReadError(b"", count)
        count -= len(piece)


def _head(status: str, headers: list[tuple[str, str]]) -> bytes:
    return (f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode(
        "latin-1"
    )


async def _respond(
    writer: asyncio.StreamWriter,
    status: str,
    body: bytes,
    content_type: str = "application/json; charset=UTF-8",
    extra: list[tuple[str, str]] | None = None,
) -> bool:
    writer.write(
        _head(status, [("Content-Type", content_type), ("Content-Length", str(len(body))), *(extra or [])])
        + body
    )
    await writer.drain()
    return True


async def _good(server: HostileServer, target: str, writer: asyncio.StreamWriter) -> bool:
    return await _respond(writer, "200 OK", GOOD_BODY)


async def _hang(server: HostileServer, target: str, writer: asyncio.StreamWriter) -> bool:
    await asyncio.sleep(3600)  # never answers: no status line, no headers
    return False


async def _hang_after_headers(server: HostileServer, target: str, writer: asyncio.StreamWriter) -> bool:
    writer.write(
        _head(
            "200 OK",
            [("Content-Type", "application/json; charset=UTF-8"), ("Content-Length", str(len(GOOD_BODY)))],
        )
    )
    await writer.drain()
    await asyncio.sleep(3600)  # a promising status line and headers, then not one byte of the body
    return False


async def _drip(server: HostileServer, target: str, writer: asyncio.StreamWriter) -> bool:
    writer.write(
        _head(
            "200 OK", [("Content-Type", "application/json; charset=UTF-8"), ("Transfer-Encoding", "chunked")]
        )
    )
    for byte in GOOD_BODY * 100:  # one byte a second, for far longer than any timeout
        writer.write(b"1\r\n" + bytes([byte]) + b"\r\n")
        await writer.drain()
        await asyncio.sleep(1.0)
    return False


async def _endless(server: HostileServer, target: str, writer: asyncio.StreamWriter) -> bool:
    writer.write(_head("200 OK", [("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked")]))
    events = (b"data: " + GOOD_BODY + b"\r\n\r\n") * ENDLESS_BATCH
    chunk = f"{len(events):x}\r\n".encode() + events + b"\r\n"
    while True:  # a well-formed stream that never ends, at up to about 1 MB/s
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(0.01)


async def _huge(server: HostileServer, target: str, writer: asyncio.StreamWriter) -> bool:
    writer.write(
        _head(
            "200 OK",
            [("Content-Type", "application/json; charset=UTF-8"), ("Content-Length", str(HUGE_BYTES))],
        )
    )
    sent = 0
    while sent < HUGE_BYTES:  # streamed from one reused chunk, never built in memory
        writer.write(CHUNK)
        await writer.drain()
        sent += len(CHUNK)
    return False


async def _bad_utf8(server: HostileServer, target: str, writer: asyncio.StreamWriter) -> bool:
    return await _respond(
        writer, "200 OK", b'{"candidates": [{"content": {"parts": [{"text": "\xff\xfe\xc3("}]}}]}'
    )


async def _truncated(server: HostileServer, target: str, writer: asyncio.StreamWriter) -> bool:
    return await _respond(writer, "200 OK", GOOD_BODY[: len(GOOD_BODY) // 2])


async def _reset(server: HostileServer, target: str, writer: asyncio.StreamWriter) -> bool:
    writer.write(
        _head(
            "200 OK",
            [("Content-Type", "application/json; charset=UTF-8"), ("Content-Length", str(len(GOOD_BODY)))],
        )
    )
    writer.write(GOOD_BODY[:40])
    await writer.drain()
    await asyncio.sleep(0.05)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST, mid-body
    writer.transport.abort()
    return False


async def _wrong_type(server: HostileServer, target: str, writer: asyncio.StreamWriter) -> bool:
    return await _respond(writer, "200 OK", GOOD_BODY, content_type="text/html; charset=utf-8")


async def _redirect(server: HostileServer, target: str, writer: asyncio.StreamWriter) -> bool:
    rest = target.split("/", 2)[2] if target.count("/") >= 2 else ""
    return await _respond(
        writer, "307 Temporary Redirect", b"", extra=[("Location", f"{server.redirect_to}/{rest}")]
    )


async def _empty(server: HostileServer, target: str, writer: asyncio.StreamWriter) -> bool:
    return await _respond(writer, "200 OK", b"")


async def _garbage(server: HostileServer, target: str, writer: asyncio.StreamWriter) -> bool:
    writer.write(GARBAGE)  # not HTTP at all: no status line, just bytes
    await writer.drain()
    return False


async def _slow_headers(server: HostileServer, target: str, writer: asyncio.StreamWriter) -> bool:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    filler = b"X-Slow: still-coming\r\n"
    for n in range(1 << 20):  # the header block, a byte a second, never finished
        line = head if n == 0 else filler
        for byte in line:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(1.0)
    return False


BEHAVIOURS: dict[str, Handler] = {
    "good": _good,
    "hang": _hang,
    "hang-after-headers": _hang_after_headers,
    "drip": _drip,
    "endless": _endless,
    "huge": _huge,
    "bad-utf8": _bad_utf8,
    "truncated": _truncated,
    "reset": _reset,
    "wrong-type": _wrong_type,
    "redirect": _redirect,
    "empty": _empty,
    "garbage": _garbage,
    "slow-headers": _slow_headers,
}
CHAOS = tuple(name for name in BEHAVIOURS if name != "good")
