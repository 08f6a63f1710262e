"""api.server.OneWriteTransport against a recording transport (the seam is the transport)."""

from __future__ import annotations

import asyncio
from typing import Any

from api.server import OneWriteTransport

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def run(body: Any) -> Any:
    return asyncio.run(body())


def test_head_and_body_leave_together() -> None:
    async def body() -> list[bytes]:
        rec = Recorder()
        t = OneWriteTransport(rec, asyncio.get_running_loop())  # type: ignore[arg-type]
        t.write(HEAD)
        t.write(b"{}")
        t.write(b"more")  # not a head: straight through
        await asyncio.sleep(0)
        return rec.writes

    assert run(body) == [HEAD + b"{}", b"more"]


def test_a_head_alone_still_leaves() -> None:
    async def body() -> tuple[list[bytes], list[bytes]]:
        rec = Recorder()
        t = OneWriteTransport(rec, asyncio.get_running_loop())  # type: ignore[arg-type]
        t.write(HEAD)  # HEAD request, 100-continue: nothing follows
        before = list(rec.writes)
        await asyncio.sleep(0)
        return before, rec.writes

    assert run(body) == ([], [HEAD])


def test_close_flushes_and_other_calls_pass_through() -> None:
    async def body() -> tuple[list[bytes], bool, str]:
        rec = Recorder()
        t = OneWriteTransport(rec, asyncio.get_running_loop())  # type: ignore[arg-type]
        t.write(HEAD)
        t.close()
        await asyncio.sleep(0)  # the scheduled flush finds nothing left to send
        return rec.writes, rec.closed, t.get_extra_info("peername")

    assert run(body) == ([HEAD], True, "info:peername")
