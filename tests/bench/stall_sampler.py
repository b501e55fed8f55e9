"""Which code the GUI thread was in while it stalled: a sampling profiler for the burst benchmark.

A daemon thread (pure Python, no Qt object: NOTES item 34) reads the main thread's stack through
`sys._current_frames()` every few milliseconds. After the run, `attribute(beats, ...)` keeps the
samples that fell inside a heartbeat gap longer than a threshold and counts, per function of
Jobdesk's own code (desktop/, jobs/), how many stall milliseconds it was on the stack (inclusive)
and at the top of our part of it (exclusive). A sample with no Jobdesk frame is named
by its innermost Python frame in brackets: "(bench_responsiveness.py:_wait_until)" is the event
loop's own C++ work (painting, layout, signal delivery) or a wait for the GIL.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = tuple(str(ROOT / part) + "/" for part in ("desktop", "jobs"))
NATIVE = "(Qt/event loop)"


class StallSampler:
    def __init__(self, interval_s: float = 0.004) -> None:
        self.interval_s = interval_s
        self.samples: list[tuple[float, tuple[str, ...]]] = []  # (time, our frames innermost first)
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            frame = sys._current_frames().get(self._main)  # type: ignore[arg-type]
            stack: list[str] = []
            innermost = frame
            while frame is not None:
                path = frame.f_code.co_filename
                if path.startswith(OURS):
                    stack.append(f"{path[len(str(ROOT)) + 1:]}:{frame.f_code.co_name}")
                frame = frame.f_back
            if not stack and innermost is not None:  # C++ under the event loop, or code not ours
                code = innermost.f_code
                stack.append(f"({Path(code.co_filename).name}:{code.co_name})")
            self.samples.append((time.perf_counter(), tuple(stack)))


def attribute(beats: list[float], samples: list[tuple[float, tuple[str, ...]]], *, over_ms: float = 40.0,
              top: int = 25) -> dict:
    """Stall milliseconds per function over the gaps longer than `over_ms` (inclusive and
    exclusive), and the worst gaps with what their samples said most."""
    gaps = [(a, b) for a, b in zip(beats, beats[1:]) if (b - a) * 1000 > over_ms]
    inclusive: Counter[str] = Counter()
    exclusive: Counter[str] = Counter()
    worst: list[dict] = []
    index = 0
    ordered = sorted(samples)
    for a, b in gaps:
        while index < len(ordered) and ordered[index][0] < a:
            index += 1
        inside = []
        j = index
        while j < len(ordered) and ordered[j][0] <= b:
            inside.append(ordered[j][1])
            j += 1
        if not inside:
            continue
        share = (b - a) * 1000 / len(inside)  # each sample stands for an equal part of the gap
        tops: Counter[str] = Counter()
        for stack in inside:
            head = stack[0] if stack else NATIVE
            exclusive[head] += share
            tops[head] += share
            for name in set(stack) or {NATIVE}:
                inclusive[name] += share
        worst.append({"gap_ms": round((b - a) * 1000, 1), "at_s": round(a - beats[0], 2),
                      "mostly": [(name, round(ms, 1)) for name, ms in tops.most_common(3)],
                      "slot": _outermost(inside)})  # fmt: skip
    worst.sort(key=lambda gap: -gap["gap_ms"])
    return {
        "gaps_over_ms": over_ms, "gaps": len(gaps),
        "inclusive_ms": [(name, round(ms, 1)) for name, ms in inclusive.most_common(top)],
        "exclusive_ms": [(name, round(ms, 1)) for name, ms in exclusive.most_common(top)],
        "worst": worst[:15],
    }


def _outermost(stacks: list[tuple[str, ...]]) -> list[tuple[str, int]]:
    """The slots (outermost Jobdesk frames) seen in a gap, most samples first."""
    return Counter(stack[-1] if stack else NATIVE for stack in stacks).most_common(3)


def print_attribution(result: dict) -> None:
    print(f"  {result['gaps']} gaps over {result['gaps_over_ms']:.0f} ms; stall ms by function (inclusive):")
    for name, ms in result["inclusive_ms"]:
        print(f"    {ms:8.1f}  {name}")
    print("  stall ms by innermost Jobdesk frame (exclusive):")
    for name, ms in result["exclusive_ms"]:
        print(f"    {ms:8.1f}  {name}")
    if result.get("slow_events"):
        print("  events that took over 20 ms (type -> receiver: total ms, count):")
        for key, ms, count in result["slow_events"]:
            print(f"    {ms:8.1f}  {count:4d}  {key}")
    print("  worst gaps:")
    for gap in result["worst"]:
        print(f"    {gap['gap_ms']:6.1f} ms at {gap['at_s']:6.2f} s  slots {gap['slot']}  mostly {gap['mostly']}")


class EventTimeline:
    """When each event reached the application's event filter, and for what: the time to the
    next event is (about) how long that one took to handle, C++ work included (a paint, a
    layout, a queued signal's slot), which the stack sampler only sees as the event loop.
    Made on the GUI thread; Qt calls it there."""

    def __init__(self, app: object) -> None:
        from PySide6.QtCore import QObject

        timeline = self

        class _Filter(QObject):
            def eventFilter(self, watched: QObject, event: object) -> bool:  # noqa: N802 (Qt's name)
                name = watched.objectName()
                if not name and type(watched).__name__ == "QTimer":  # whose timer: its parent's class
                    parent = watched.parent()
                    name = f"of {type(parent).__name__}" if parent is not None else ""
                timeline.events.append((time.perf_counter(), int(event.type()), type(watched).__name__, name))  # type: ignore[attr-defined]
                return False

        self.events: list[tuple[float, int, str, str]] = []
        self._filter = _Filter()
        app.installEventFilter(self._filter)  # type: ignore[attr-defined]

    def longest(self, beats: list[float], over_ms: float = 20.0, top: int = 25) -> list[tuple[str, float, int]]:
        """(event type and receiver, total ms, count) of events that took over `over_ms`, between the first and last beat."""
        from PySide6.QtCore import QEvent

        totals: Counter[str] = Counter()
        counts: Counter[str] = Counter()
        start, end = beats[0], beats[-1]
        for (at, kind, cls, name), (after, *_rest) in zip(self.events, self.events[1:]):
            took = (after - at) * 1000
            if start <= at <= end and took > over_ms:
                key = f"{QEvent.Type(kind).name} -> {cls}{'#' + name if name else ''}"
                totals[key] += took
                counts[key] += 1
        return [(key, round(ms, 1), counts[key]) for key, ms in totals.most_common(top)]
