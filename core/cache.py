"""Django's Redis cache backend, with one Redis client per connection pool instead of one per call.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` around the (shared) connection pool
for every cache operation, and redis-py's constructor fills a dictionary of some 170 response
callbacks each time: about 0.1 ms of CPU per `cache.get`, more than the round trip to Redis itself
(docs/performance.md, « the request floor »). Every request pays it at least once, for its session.
A `redis.Redis` is thread-safe and holds no connection of its own (it borrows one from the pool per
command), so one client per pool serves every call.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # connection pool index → redis.Redis

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:  # as DjangoRedisCacheClient._get_connection_pool, for this index
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
