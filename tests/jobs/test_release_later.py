"""A list handed to `release_later` is emptied, and what only it held freed, on the release
thread, not on the caller's (jobs.release_later)."""

from __future__ import annotations

import threading

from jobs.release_later import release_later, released


class _Noted:
    """Notes the thread that frees it."""

    freed_on: list[threading.Thread] = []

    def __del__(self) -> None:
        _Noted.freed_on.append(threading.current_thread())


def test_the_items_are_freed_on_another_thread_and_all_of_them():
    _Noted.freed_on.clear()
    items = [_Noted() for _ in range(1000)]
    kept = items[10]  # still held elsewhere: not freed
    release_later(items)
    del items
    released()
    assert len(_Noted.freed_on) == 999
    assert threading.current_thread() not in _Noted.freed_on
    assert kept.__class__ is _Noted  # (held to here)


def test_lists_handed_over_from_several_threads_are_all_released():
    _Noted.freed_on.clear()
    threads = [threading.Thread(target=lambda: release_later([_Noted() for _ in range(300)])) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    released()
    assert len(_Noted.freed_on) == 1200
    assert len(set(_Noted.freed_on)) == 1  # the one release thread
