"""Running async work from synchronous callers, and the reverse.

The synchronous API (``flow.start``, ``execution.start``, ``close``...) runs its
coroutine on one background event loop per process, so executions driven
synchronously keep their tasks alive between calls. An execution is bound to
the loop it first ran on; calls from another loop or thread are forwarded to it.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

__all__ = ["background_loop", "call_in_loop", "on_loop", "run_in_loop", "run_sync"]

_T = TypeVar("_T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    """The process-wide loop that runs synchronously driven executions."""
    global _loop, _thread
    with _lock:
        if (
            _loop is None
            or _loop.is_closed()
            or _thread is None
            or not _thread.is_alive()
        ):
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                while True:
                    try:
                        loop.run_forever()
                    except (KeyboardInterrupt, SystemExit):
                        # Raised by code on this loop (a chunk): asyncio lets it
                        # escape run_forever, which would end this thread and
                        # leave every sync caller waiting forever. The task that
                        # raised it holds it too, and hands it on to whoever
                        # waits for it; the loop keeps serving them.
                        continue
                    return

            thread = threading.Thread(target=run, name="triggerlog-loop", daemon=True)
            thread.start()
            ready.wait()
            _loop, _thread = loop, thread
        return _loop


def _stop_background_loop() -> None:
    loop = _loop
    if loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(loop.stop)


atexit.register(_stop_background_loop)


def on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    """True when called from code running on ``loop`` (in its thread, inside it)."""
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def run_sync(
    coro: Coroutine[Any, Any, _T], loop: asyncio.AbstractEventLoop | None = None
) -> _T:
    """Run ``coro`` to completion from synchronous code and return its result."""
    target = loop or background_loop()
    if on_loop(target):
        coro.close()
        raise RuntimeError(
            "a synchronous triggerlog call was made from inside the event loop that "
            "runs the execution; use the async_ method (e.g. await async_start())"
        )
    return asyncio.run_coroutine_threadsafe(coro, target).result()


async def run_in_loop(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, _T]
) -> _T:
    """Await ``coro`` on ``loop``, forwarding from the current loop if it differs."""
    if asyncio.get_running_loop() is loop:
        return await coro
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))


def call_in_loop(
    loop: asyncio.AbstractEventLoop, fn: Callable[..., _T], *args: Any
) -> _T:
    """Call ``fn(*args)`` on ``loop``'s thread and return its result (blocking)."""
    if on_loop(loop):
        return fn(*args)
    if loop.is_closed() or not loop.is_running():
        return fn(*args)
    result: Any = asyncio.run_coroutine_threadsafe(_call(fn, *args), loop).result()
    return result  # type: ignore[no-any-return]


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)
