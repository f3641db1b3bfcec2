"""Fixed-window counters in the shared cache (Redis in production): rate limits of public pages and of
the audit events an account can produce. No personal data in the keys (ids, addresses, hashes)."""

from django.core.cache import cache


def count_in_window(key, window):
    """Increments the counter `key` of the current window (`window` seconds) and returns its value."""
    if cache.add(key, 1, window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, window)
        return 1


def exceeded(key, *, limit, window):
    """Counts one hit; True once more than `limit` hits fell in the window."""
    return count_in_window(key, window) > limit
