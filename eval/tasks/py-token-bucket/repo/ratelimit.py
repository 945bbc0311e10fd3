"""Rate limiters for the API gateway. `clock` returns seconds; tests pass a fake one."""

import time


class FixedWindowLimiter:
    def __init__(self, limit, window_seconds, clock=time.monotonic):
        if limit <= 0 or window_seconds <= 0:
            raise ValueError("limit and window_seconds must be positive")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._windows = {}  # key -> (window number, count)

    def allow(self, key):
        window = int(self._clock() // self.window_seconds)
        current, count = self._windows.get(key, (window, 0))
        if current != window:
            count = 0
        if count >= self.limit:
            self._windows[key] = (window, count)
            return False
        self._windows[key] = (window, count + 1)
        return True
