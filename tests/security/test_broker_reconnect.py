"""Redis « restart » while documents are being rendered by a real Celery worker: the jobs complete and
the worker keeps consuming after it reconnects.

The restart is simulated by killing, on the Redis server, every connection of the worker processes and
of this test process (CLIENT KILL): exactly what they see when Redis restarts, without disturbing other
users of the same server. Needs PostgreSQL and Redis (see .ci/run).
"""

import os
import subprocess
import time
import uuid

import pytest
from django.conf import settings

from core.models import WorkerProbe
from deliberations import services
from deliberations.models import DocumentKind, DocumentStatus, GeneratedDocument
from tests.deliberations.factories import ready_session


def _wait(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _process_tree(pid):
    pids = {pid}
    pending = [pid]
    while pending:
        parent = pending.pop()
        children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True, check=False)
        for child in children.stdout.split():
            pids.add(int(child))
            pending.append(int(child))
    return pids


def _local_ports_to(pids, remote_port):
    """Local TCP ports of the given processes' connections to `remote_port` (read from /proc)."""
    inodes = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except FileNotFoundError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]  # noqa: SIM115
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == remote_port:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def drop_redis_connections(pids):
    import redis

    server = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    port = server.connection_pool.connection_kwargs.get("port", 6379)
    ports = _local_ports_to(pids, port)
    killed = 0
    for client in server.client_list():
        if int(client["addr"].rsplit(":", 1)[1]) in ports:
            killed += server.client_kill_filter(_id=client["id"])
    server.close()
    return killed


@pytest.mark.worker
def test_redis_connections_lost_mid_render_jobs_complete_after_reconnection(celery_worker_process):
    from core.tasks import probe

    session = ready_session(n=12)
    for entry in session.entries.select_related("candidate"):
        services.record_decisions(actor=None, session=session, candidate=entry.candidate, choices={})
    services.close_session(actor=None, session=session)  # committed: the jobs go to the worker
    pv = GeneratedDocument.objects.get(session=session, kind=DocumentKind.PV)
    assert _wait(lambda: GeneratedDocument.objects.get(pk=pv.pk).status != DocumentStatus.QUEUED, 90)

    killed = drop_redis_connections(_process_tree(celery_worker_process.pid) | {os.getpid()})
    pending = GeneratedDocument.objects.filter(session=session).exclude(status=DocumentStatus.DONE).count()
    assert killed >= 1, "aucune connexion du worker à Redis trouvée"
    if not pending:
        pytest.skip("Tout était déjà produit quand les connexions ont été coupées : rien n'a été interrompu.")

    # Every document of the session ends rendered, none failed.
    def all_done():
        statuses = set(GeneratedDocument.objects.filter(session=session).values_list("status", flat=True))
        return statuses == {DocumentStatus.DONE}

    assert _wait(all_done, 300), list(
        GeneratedDocument.objects.filter(session=session).values("kind", "status", "error")
    )
    assert (
        GeneratedDocument.objects.filter(session=session, kind=DocumentKind.PV, is_current=True).count() == 1
    )
    # The worker reconnected: a job queued after the outage is consumed too.
    token = uuid.uuid4().hex
    probe.delay(token)
    assert _wait(lambda: WorkerProbe.objects.filter(token=token).exists(), 120)
    assert celery_worker_process.poll() is None  # the worker survived the outage
