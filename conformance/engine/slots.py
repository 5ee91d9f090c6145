"""A target's concurrency limit as a priority gate: at most ``size`` holders, the waiter with the best
priority served first.

The wire phase holds a slot for one attempt of a case (its chain of steps). When a slot frees, it goes to
the waiting attempt with the lowest priority key: the runner ranks follow-up attempts of cases already
started before new cases, and longer chains before shorter ones, so that slots stay busy and the run does
not end waiting on a long chain started last.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

Priority = tuple[int, ...]
"""Lower is served first."""


class Slots:
    """Up to ``size`` concurrent holders; waiters are served in priority order, ties first come first."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("at least one slot")
        self.size = size
        self.free = size
        self._waiting: list[tuple[Priority, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def held(self) -> int:
        return self.size - self.free

    async def acquire(self, priority: Priority = ()) -> None:
        """Wait for a slot; a waiter cancelled after it was handed a slot gives the slot back."""
        if self.free > 0 and not self._waiting:
            self.free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # handed over just as the waiter was cancelled
            raise

    def release(self) -> None:
        """Give a slot back: to the best waiter still waiting, else to the pool."""
        while self._waiting:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(None)
                return
        self.free += 1

    @asynccontextmanager
    async def hold(self, priority: Priority = ()) -> AsyncIterator[None]:
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()
