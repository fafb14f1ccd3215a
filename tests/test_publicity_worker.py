"""The publicity deadline is swept by beat, not by anyone calling the sweep: a real Celery worker process
with embedded beat (django-celery-beat's database scheduler, which reads CELERY_BEAT_SCHEDULE into its
tables) closes an expired announcement and approves its application on its own."""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.roles import Role
from applications.models import Application, ApplicationEvent, Status
from evaluation.models import Announcement
from tests.factories import application_in_publicity, user_with_role

BASE_DIR = Path(__file__).resolve().parent.parent
MARKER = "cqmic-publicity-worker-test"


def _own_redis_database():
    """A Redis database of this test's own for the worker's broker and results.

    Others run the suite (and tests/test_worker.py's worker) on this machine at the same time against the
    tests' Redis database: a worker there could take this beat's sweeps to another test database, and this
    worker could take their tasks. Database 0 (development) and the tests' database are left alone; an
    empty database is claimed with a marker key that expires."""
    base = settings.REDIS_URL.rsplit("/", 1)[0]
    shared = int(settings.REDIS_URL.rsplit("/", 1)[1] or 0)
    for number in range(14, 0, -1):
        if number == shared:
            continue
        url = f"{base}/{number}"
        client = redis.Redis.from_url(url)
        if client.dbsize() == 0 and client.set(MARKER, uuid.uuid4().hex, nx=True, ex=600):
            return url, client
    pytest.skip("no empty Redis database for the worker's broker")


def _log(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture
def worker_with_beat(transactional_db, tmp_path):
    """``celery worker -B`` (solo pool) against the test database, sweeping publicity every second.

    Requests ``transactional_db`` so that it stops before the test database is flushed."""
    broker_url, broker = _own_redis_database()
    log_path = tmp_path / "worker.log"
    name = f"publicity-{uuid.uuid4().hex[:8]}@localhost"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/" + connection.settings_dict["NAME"],
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PUBLICITY_SWEEP_SECONDS": "1",
        "TEST_REDIS_URL": broker_url,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-B",
            "-P",
            "solo",
            "-n",
            name,
            "--schedule",
            str(tmp_path / "beat"),
            "-l",
            "INFO",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the embedded beat stops with it
    )
    try:
        deadline = time.monotonic() + 60
        while "ready." not in _log(log_path):
            assert proc.poll() is None, "the worker exited:\n" + _log(log_path)
            if time.monotonic() > deadline:
                pytest.fail("the Celery worker was not ready within 60 s:\n" + _log(log_path))
            time.sleep(0.2)
        yield log_path
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
        print(_log(log_path))  # shown by pytest only if the test failed
        broker.flushdb()  # the database claimed above: the broker's queues and results of this run only
        broker.close()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_beat_closes_an_expired_announcement_without_anyone_calling_the_sweep(worker_with_beat):
    staff = user_with_role(Role.COMMISSION_STAFF)
    application, announcement = application_in_publicity(staff=staff)
    waiting, still_open = application_in_publicity(staff=staff)
    now = timezone.now()
    Announcement.objects.filter(pk=announcement.pk).update(
        starts_at=now - timedelta(days=10), ends_at=now - timedelta(minutes=1)
    )

    deadline = time.monotonic() + 60
    while Application.objects.get(pk=application.pk).status != Status.APPROVED:
        if time.monotonic() > deadline:
            pytest.fail("the application was not approved within 60 s:\n" + _log(worker_with_beat))
        time.sleep(0.5)

    assert Announcement.objects.get(pk=announcement.pk).closed_at is not None
    [event] = ApplicationEvent.objects.filter(application_id=application.pk, action="approve")
    assert (event.actor, event.comment) == (None, "公示期满，无异议。")
    # The schedule came from CELERY_BEAT_SCHEDULE into the database scheduler's tables, every second.
    task = PeriodicTask.objects.get(name="close-expired-publicity")
    assert (task.task, task.interval.every, task.interval.period) == (
        "evaluation.tasks.close_expired_publicity",
        1,
        "seconds",
    )
    log = _log(worker_with_beat)
    assert "Sending due task close-expired-publicity" in log  # beat
    assert re.search(r"Task evaluation\.tasks\.close_expired_publicity\[[0-9a-f-]+\] succeeded", log)
    # Sweeping again and again changes nothing: one approval, and the announcement still open stays open.
    time.sleep(3)
    assert ApplicationEvent.objects.filter(application_id=application.pk, action="approve").count() == 1
    assert Application.objects.get(pk=waiting.pk).status == Status.PUBLICITY
    assert Announcement.objects.get(pk=still_open.pk).closed_at is None
