"""A small per-process memo for values that are expensive to build and fully determined by their key,
e.g. the crispy-forms HTML of an unbound form keyed by the language and every choice it offers
(the journal's filter, the CPF export form: issue 21). Bounded, oldest out first, safe under threads.
Not a cache of data: a key that leaves out something the value depends on would serve stale HTML."""

import threading


class ProcessMemo:
    def __init__(self, size=64):
        self._size = size
        self._values = {}
        self._lock = threading.Lock()

    def get_or_build(self, key, build):
        """The value kept under `key`, else `build()` kept under it (the oldest entry out when full)."""
        value = self._values.get(key)
        if value is None:
            value = build()
            with self._lock:  # threaded servers (runserver, gthread): one eviction at a time
                if key not in self._values and len(self._values) >= self._size:
                    self._values.pop(next(iter(self._values)), None)
                self._values[key] = value
        return value

    def clear(self):
        with self._lock:
            self._values.clear()

    def __len__(self):
        return len(self._values)
