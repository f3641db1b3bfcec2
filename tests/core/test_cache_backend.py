"""core.cache.RedisCache: Django's Redis backend reusing one client per connection pool (issue 21)."""

import socket

import pytest

from core.cache import RedisCache


def _redis_up():
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.2).close()
    except OSError:
        return False
    return True


def test_one_client_per_pool_reused_by_every_call():
    cache = RedisCache("redis://127.0.0.1:6379/13", {})
    client = cache._cache.get_client("a")
    assert cache._cache.get_client("b") is client
    assert cache._cache.get_client("c", write=True) is client  # one server: reads and writes share it
    assert client.connection_pool is cache._cache._pools[0]


def test_reads_may_go_to_another_server_than_writes():
    cache = RedisCache("redis://127.0.0.1:6379/13,redis://127.0.0.1:6379/14", {})
    writer = cache._cache.get_client(write=True)
    reader = cache._cache.get_client()
    assert reader is not writer
    assert writer.connection_pool.connection_kwargs["db"] == 13
    assert reader.connection_pool.connection_kwargs["db"] == 14


@pytest.mark.skipif(not _redis_up(), reason="no Redis on the loopback")
def test_it_is_still_a_cache():
    cache = RedisCache("redis://127.0.0.1:6379/13", {"OPTIONS": {}})
    cache.set("core-cache-test", {"a": 1}, 5)
    assert cache.get("core-cache-test") == {"a": 1}
    assert cache.get_many(["core-cache-test", "absent"]) == {"core-cache-test": {"a": 1}}
    cache.delete("core-cache-test")
    assert cache.get("core-cache-test") is None
