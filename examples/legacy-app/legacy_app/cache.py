"""Redis: the cached order count (the back-office dashboard polls it every few seconds)."""

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

TIMEOUT_S = 2
COUNT_KEY = "legacy-app:orders:count"
COUNT_TTL_S = 60


def client(cfg):
    return redis.Redis(
        host=cfg.cache_host,
        port=cfg.cache_port,
        socket_connect_timeout=TIMEOUT_S,
        socket_timeout=TIMEOUT_S,
        # redis-py retries 3 times by default: /status would take 4x the timeout to fail.
        retry=Retry(NoBackoff(), 0),
    )


def ping(cfg):
    with client(cfg) as r:
        return r.ping()


def get_count(cfg):
    with client(cfg) as r:
        value = r.get(COUNT_KEY)
    return None if value is None else int(value)


def set_count(cfg, count):
    with client(cfg) as r:
        r.set(COUNT_KEY, count, ex=COUNT_TTL_S)


def invalidate_count(cfg):
    with client(cfg) as r:
        r.delete(COUNT_KEY)
