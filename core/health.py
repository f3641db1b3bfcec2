"""Health checks used by /healthz (load balancers, docker-compose, CI)."""

from django.conf import settings
from django.db import connection
from kombu import Connection


def check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return False, exc.__class__.__name__
    return True, "ok"


def check_broker(timeout=2.0):
    """Open (and close) a connection to the Celery broker. Eager mode has no broker: it is fine."""
    if not settings.CELERY_BROKER_URL:
        return True, "eager"

    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        return False, exc.__class__.__name__
    return True, "ok"
