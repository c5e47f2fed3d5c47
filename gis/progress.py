"""A tiny progress-callback protocol for long work, and adapters to show it.

Library code that may run long (reading, staging rows with COPY, assigning points) takes a
keyword-only ``progress`` argument: a callable ``progress(done, total, stage)`` where
``done`` is the number of units finished so far in ``stage`` (rows, points, steps), ``total``
the number expected (``None`` when unknown) and ``stage`` a short English label
(``"read"``, ``"stage"``, ``"assign"`` ...). Library code calls it with a growing ``done``
and must not depend on what the callback does; ``None`` means "report nothing".

Entry points adapt the callback: the CLI to a tqdm bar on stderr (:func:`tqdm_progress`),
the app to ``st.progress`` (a few lines in the page module), tests to a list
(:class:`ProgressRecorder`).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar

__all__ = [
    "Progress",
    "ProgressRecorder",
    "Stopwatch",
    "chunked",
    "notify",
    "tqdm_progress",
]

logger = logging.getLogger(__name__)

#: ``progress(done, total, stage)``: ``done`` units of ``total`` (``None``: unknown) in ``stage``.
Progress = Callable[[int, "int | None", str], None]

T = TypeVar("T")


def notify(progress: Progress | None, done: int, total: int | None, stage: str) -> None:
    """Call ``progress`` if given; a failing callback is logged, never breaks the work."""
    if progress is None:
        return
    try:
        progress(int(done), None if total is None else int(total), stage)
    except Exception:  # a display problem must not abort an import
        logger.exception("progress callback failed for stage %r", stage)


def chunked(
    items: Iterable[T], *, size: int, total: int | None = None, stage: str, progress: Progress | None = None
) -> Iterator[list[T]]:
    """Yield ``items`` in lists of ``size``, reporting ``(done, total, stage)`` after each list.

    ``total`` defaults to ``len(items)`` when it has one. Reports ``(0, total, stage)`` first,
    so a bar appears before the first chunk is processed.
    """
    if size < 1:
        raise ValueError(f"size was {size} but is expected to be at least 1")
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    notify(progress, 0, total, stage)
    done = 0
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            done += len(batch)
            notify(progress, done, total, stage)
            batch = []
    if batch:
        yield batch
        done += len(batch)
        notify(progress, done, total, stage)


@dataclass
class ProgressRecorder:
    """A ``Progress`` that remembers every call (for tests and logging): ``calls`` holds
    ``(done, total, stage)`` tuples in order."""

    calls: list[tuple[int, int | None, str]] = field(default_factory=list)

    def __call__(self, done: int, total: int | None, stage: str) -> None:
        self.calls.append((done, total, stage))

    def stages(self) -> list[str]:
        """The stages reported, in first-seen order."""
        return list(dict.fromkeys(stage for _, _, stage in self.calls))

    def last(self, stage: str) -> tuple[int, int | None] | None:
        """The last ``(done, total)`` reported for ``stage``, or ``None``."""
        for done, total, seen in reversed(self.calls):
            if seen == stage:
                return done, total
        return None


@contextmanager
def tqdm_progress(
    *, enabled: bool | None = None, file: TextIO | None = None, labels: dict[str, str] | None = None,
    min_total: int = 0,
) -> Iterator[Progress]:
    """A ``Progress`` drawing one tqdm bar per stage on ``file`` (default stderr).

    ``enabled=None`` shows bars only when ``file`` is a terminal; ``False`` gives a callback
    that does nothing (used with ``--json``). ``labels`` maps stage names to the text shown.
    Stages whose ``total`` is below ``min_total`` get no bar (tiny files do not flicker).
    A stage's bar disappears when ``done`` reaches ``total``; the others when the context
    exits, also on error.
    """
    stream = file if file is not None else sys.stderr
    if enabled is None:
        enabled = bool(getattr(stream, "isatty", lambda: False)())
    if not enabled:
        yield lambda done, total, stage: None
        return
    from tqdm import tqdm

    bars: dict[str, Any] = {}
    names = labels or {}

    def callback(done: int, total: int | None, stage: str) -> None:
        bar = bars.get(stage)
        if total is not None and total < min_total:
            if bar is not None:  # a stage that turned out small: drop its bar
                bars.pop(stage).close()
            return
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=names.get(stage, stage), file=stream, leave=False,
                                     unit="row", dynamic_ncols=True)
        elif total is not None and bar.total != total:
            bar.total = total
        bar.update(max(0, done - bar.n))
        if total is not None and done >= total:
            bar.close()  # a finished stage leaves the terminal clean for what is printed next
            del bars[stage]

    try:
        yield callback
    finally:
        for bar in bars.values():
            bar.close()


class Stopwatch:
    """Elapsed wall-clock seconds since creation (``time.perf_counter``)."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self._start
