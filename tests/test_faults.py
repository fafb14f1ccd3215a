"""Fault tests on the real services (issue 9, "Degraded operation" and "Fault tests").

- Redis stopped during a move: the move commits, its e-mail waits in the outbox and goes out through a real
  Celery worker once Redis is back; ``/healthz`` says what is down meanwhile; pages keep answering.
- A deadline sweep killed (SIGKILL) in the middle and run again: each application approved exactly once.

Others run the suite on this machine at the same time against the shared Redis server (127.0.0.1:6379),
which must never be stopped: every test here stops and starts a ``redis-server`` of its own on a free port.
Django runs in subprocesses (settings ``config.settings.test``) pointed at that server and at the test
database, so the test's own process keeps the usual settings. Every process started here is stopped by a
fixture, whatever happens.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

import psycopg2
import pytest
import redis
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Delivery, Notification, User
from accounts.roles import Role
from accounts.tasks import retry_unsent_notifications
from applications.models import Application, ApplicationEvent, Status
from evaluation import publicity
from evaluation.models import Announcement, Objection
from tests.factories import (
    TEST_PASSWORD,
    application_in,
    applications_in_expired_publicity,
    complete_application,
    user_with_role,
    valid_id_number,
)

BASE_DIR = Path(__file__).resolve().parent.parent
HEALTH_OK = {"status": "ok", "database": "ok", "redis": "ok", "worker": "ok"}
HEALTH_REDIS_DOWN = {"status": "degraded", "database": "ok", "redis": "down", "worker": "down"}


# --- a Redis server of the test's own ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """``redis-server`` on a free port, without persistence: a restart comes back empty, as after a crash
    of a Redis without disk (whatever was queued during the outage is gone as well)."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self) -> None:
        assert self.proc is None
        args = ["redis-server", "--bind", "127.0.0.1", "--appendonly", "no", "--daemonize", "no"]
        args += ["--port", str(self.port), "--save", "", "--dir", str(self.directory)]
        with (self.directory / "redis.log").open("a") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while not self.ping():
            assert self.proc.poll() is None, (self.directory / "redis.log").read_text()
            assert time.monotonic() < deadline, "redis-server did not answer within 15 s"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        assert not self.ping()


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def stop_process(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    """Stop a process started in a session of its own, with everything it started (its process group)."""
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()


@pytest.fixture
def processes():
    """``processes(args, **popen_kwargs)`` starts a process in a session of its own; all are stopped at the
    end of the test."""
    started: list[subprocess.Popen] = []

    def start(args, **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(args, cwd=BASE_DIR, start_new_session=True, **kwargs)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            stop_process(proc)


# --- Django in a subprocess ---------------------------------------------------------------------------------


def database_url() -> str:
    params = connection.settings_dict
    auth = params["USER"] or "postgres"
    if params["PASSWORD"]:
        auth += f":{params['PASSWORD']}"
    return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"


def django_env(redis_url: str, mail_dir: Path, **extra) -> dict:
    """The environment of a portal process (web, worker) on the test database and the test's own Redis,
    with real (not eager) tasks and e-mails written as files into ``mail_dir``."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "TEST_REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "TEST_EMAIL_FILE_PATH": str(mail_dir),
        "ALLOWED_HOSTS": "testserver",
        **extra,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def run_django(code: str, env: dict, *args, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -c code args...`` (killed if it outlives ``timeout``: ``subprocess.TimeoutExpired``)."""
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def last_json(result: subprocess.CompletedProcess):
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


SETUP = """
import json, signal, sys, time
import django
django.setup()
from django.test import Client
from django.urls import reverse


def healthz():
    response = Client().get("/healthz")
    return [response.status_code, response.json()]
"""

MOVE = (
    SETUP
    + """
from accounts.models import User
from applications.models import Application
from evaluation import workflow
application, user = Application.objects.get(pk=int(sys.argv[1])), User.objects.get(pk=int(sys.argv[2]))
health = healthz()
workflow.start_preliminary(application, user)
print(json.dumps({"healthz": health}))
"""
)

SEND_UNSENT = (
    SETUP
    + """
from accounts.tasks import retry_unsent_notifications
health = healthz()
print(json.dumps({"healthz": health, "sent": retry_unsent_notifications.delay(0).get(timeout=60)}))
"""
)

SUBMIT_WITHIN = (
    SETUP
    + """
from accounts.models import User
from applications import services
from applications.models import Application
application, user = Application.objects.get(pk=int(sys.argv[1])), User.objects.get(pk=int(sys.argv[2]))
signal.alarm(int(sys.argv[3]))  # SIGALRM ends the process, as a web server ends a worker past its timeout
services.submit(application, user)
signal.alarm(0)
print(json.dumps("submitted"))
"""
)

PAGES = (
    SETUP
    + """
username, password, urls = sys.argv[1], sys.argv[2], sys.argv[3:]
client = Client(raise_request_exception=False)
seen = {url: client.get(url).status_code for url in urls}
if username:
    data = {"username": username, "password": password}
    response = client.post(reverse("accounts:login"), data, follow=True)
    landed = response.redirect_chain[-1][0] if response.redirect_chain else ""
    seen["sign-in"] = [landed, response.status_code]
print(json.dumps(seen))
"""
)

OBJECTION = (
    SETUP
    + """
from django.core.files.uploadedfile import SimpleUploadedFile
from tests.factories import PDF_BYTES
announcement, data = int(sys.argv[1]), json.loads(sys.argv[2])
data["evidence"] = SimpleUploadedFile("证据.pdf", PDF_BYTES, content_type="application/pdf")
response = Client(raise_request_exception=False).post(
    reverse("announcements:detail", args=[announcement]), data, REMOTE_ADDR="198.51.100.77"
)
print(json.dumps(response.status_code))
"""
)

PAGES_THEN_SWEEP = (
    SETUP
    + """
from evaluation import publicity
client = Client(raise_request_exception=False)
seen = {url: client.get(url).status_code for url in sys.argv[1:]}
try:
    seen["sweep"] = publicity.close_expired()
except Exception as error:
    seen["sweep"] = f"{type(error).__module__}.{type(error).__name__}: {error}"
print(json.dumps(seen))
"""
)

SWEEP = (
    SETUP
    + """
from django.db import connection
from evaluation import publicity
with connection.cursor() as cursor:
    cursor.execute("SELECT pg_backend_pid()")
    print(cursor.fetchone()[0], flush=True)
print(json.dumps(publicity.close_expired()), flush=True)
"""
)


CELERY_WORKER = "-m celery -A config worker -P solo --without-mingle --without-gossip -l INFO"


def start_worker(start, env: dict, log_path: Path) -> subprocess.Popen:
    """A real Celery worker (solo pool) on the environment's Redis, as in tests/test_worker.py."""
    name = f"faults-{uuid.uuid4().hex[:8]}@localhost"
    with log_path.open("w") as log:
        args = [sys.executable, *CELERY_WORKER.split(" "), "-n", name]
        proc = start(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "ready." not in (text := log_path.read_text(errors="replace")):
        assert proc.poll() is None, "the worker exited:\n" + text
        assert time.monotonic() < deadline, "the worker was not ready within 60 s:\n" + text
        time.sleep(0.1)
    return proc


def mails(mail_dir: Path) -> list[str]:
    """The messages the file e-mail backend wrote (one file per connection, messages separated by dashes)."""
    if not mail_dir.exists():
        return []
    text = "".join(path.read_text(errors="replace") for path in sorted(mail_dir.iterdir()))
    return [message for message in text.split("-" * 79) if message.strip()]


# --- Redis down during a move ------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_move_while_redis_is_down_commits_and_its_email_goes_out_when_redis_is_back(
    own_redis, processes, tmp_path
):
    staff = user_with_role(Role.COMMISSION_STAFF)
    application = application_in("submitted", staff=staff)  # (its own e-mails sent in-process, eagerly)
    lead = application.created_by
    assert not Delivery.objects.filter(status=Delivery.Status.PENDING).exists()
    mail_dir = tmp_path / "mail"
    env = django_env(own_redis.url, mail_dir)

    own_redis.stop()
    moved = run_django(MOVE, env, application.pk, staff.pk, timeout=180)
    assert last_json(moved) == {"healthz": [200, HEALTH_REDIS_DOWN]}  # and the move raised nothing
    assert "could not queue notification" in moved.stderr  # recorded for the retry sweep
    application = Application.objects.get(pk=application.pk)
    assert application.status == Status.PRELIMINARY
    [event] = ApplicationEvent.objects.filter(application_id=application.pk, action="start_preliminary")
    assert (event.actor_id, event.from_status, event.to_status) == (staff.pk, "submitted", "preliminary")
    waiting = list(Delivery.objects.filter(status=Delivery.Status.PENDING).select_related("notification"))
    assert [(d.notification.recipient_id, d.channel) for d in waiting] == [(lead.pk, "email")]
    assert all(d.attempts == 0 and d.notification.link for d in waiting)
    assert mails(mail_dir) == []

    own_redis.start()  # empty: nothing of the move is in it
    start_worker(processes, env, tmp_path / "worker.log")
    # The beat task, run by the worker (asked for at once instead of after beat's two minutes).
    assert last_json(run_django(SEND_UNSENT, env)) == {"healthz": [200, HEALTH_OK], "sent": len(waiting)}

    sent = mails(mail_dir)
    assert len(sent) == len(waiting)
    for delivery, message in zip(waiting, sent, strict=True):
        delivery.refresh_from_db()
        assert delivery.sent_at is not None and delivery.attempts == 1 and delivery.last_error == ""
        assert f"To: {delivery.notification.recipient.email}" in message
        assert delivery.notification.link in message
    assert not Delivery.objects.filter(status=Delivery.Status.PENDING).exists()
    assert retry_unsent_notifications(0) == 0  # swept again: nothing is sent twice
    assert len(mails(mail_dir)) == len(waiting)


MOVE_SECONDS = 5  # a page that makes a move should answer well within this, Redis or not


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_move_while_redis_is_down_answers_promptly(own_redis, tmp_path):
    lead = user_with_role(Role.LEAD_UNIT)
    user_with_role(Role.COMMISSION_STAFF)
    user_with_role(Role.COMMISSION_STAFF)
    draft = complete_application(lead_user=lead)
    own_redis.stop()
    env = django_env(own_redis.url, tmp_path / "mail")
    result = run_django(SUBMIT_WITHIN, env, draft.pk, lead.pk, MOVE_SECONDS)
    # Answered or ended (as a web server ends a worker past its timeout), the move had been committed.
    assert Application.objects.get(pk=draft.pk).status == Status.SUBMITTED
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 3  # lead unit and two staff
    if result.returncode == -signal.SIGALRM:
        raise TimeoutError(f"the submission did not return within {MOVE_SECONDS} s")
    assert last_json(result) == "submitted"


def open_announcement_of_one() -> tuple:
    """An application in an announcement open now (``applications_in_expired_publicity``, reopened)."""
    [(application, announcement)] = applications_in_expired_publicity(1)
    Announcement.objects.filter(pk=announcement.pk).update(ends_at=timezone.now() + timedelta(days=5))
    return application, announcement


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pages_and_sign_in_keep_working_while_redis_is_down(own_redis, tmp_path):
    application, announcement = open_announcement_of_one()
    urls = ["/", reverse("announcements:detail", args=[announcement.pk]), reverse("accounts:login")]
    own_redis.stop()
    env = django_env(own_redis.url, tmp_path / "mail")
    seen = last_json(run_django(PAGES, env, application.created_by.username, TEST_PASSWORD, *urls))
    # Signed in, the lead unit's home page is shown (the end of the redirects).
    assert seen == {**dict.fromkeys(urls, 200), "sign-in": [reverse("applications:lead_home"), 200]}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_public_page_cache_is_not_in_the_way_while_redis_is_down(own_redis, tmp_path):
    [(application, announcement)] = applications_in_expired_publicity(1)
    # No e-mail to queue (the delay of test_a_move_while_redis_is_down_answers_promptly is not this test's).
    User.objects.filter(pk=application.created_by_id).update(is_active=False)
    urls = [reverse("announcements:list"), reverse("centres:directory")]
    own_redis.stop()
    seen = last_json(run_django(PAGES_THEN_SWEEP, django_env(own_redis.url, tmp_path / "mail"), *urls))
    assert seen == {**dict.fromkeys(urls, 200), "sweep": {"closed": 1, "approved": 1, "waiting": 0}}
    assert Announcement.objects.get(pk=announcement.pk).closed_at is not None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_public_objection_form_keeps_working_while_redis_is_down(own_redis, tmp_path):
    _application, announcement = open_announcement_of_one()
    # No active commission staff: the objection's notification would add the delay of the test above.
    User.objects.filter(groups__in=Group.objects.filter(name=Role.COMMISSION_STAFF)).update(is_active=False)
    data = {
        "stash": "",
        "entry": announcement.entries.get().pk,
        "kind": Objection.Kind.PERSON,
        "name": "王异议",
        "id_number": valid_id_number(),
        "contact_person": "",
        "phone": "13800001234",
        "statement": "该单位申报的研发人员数量与实际不符。",
    }
    own_redis.stop()
    status = last_json(
        run_django(OBJECTION, django_env(own_redis.url, tmp_path / "mail"), announcement.pk, json.dumps(data))
    )
    assert (status, Objection.objects.count()) == (200, 1)


# --- a deadline sweep killed in the middle -----------------------------------------------------------------

SWEPT = 30


def approvals() -> int:
    return ApplicationEvent.objects.filter(action="approve").count()


def backend_state(pid: int):
    """``(state, wait_event_type)`` of a PostgreSQL backend, or None once it has gone."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT state, wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_sweep_killed_in_the_middle_and_run_again_approves_each_application_exactly_once(
    own_redis, processes, tmp_path, mailoutbox
):
    pairs = applications_in_expired_publicity(SWEPT)
    assert approvals() == 0
    # The test holds a lock on the application of the announcement in the middle: the sweep commits the
    # announcements before it, one transaction each, then waits inside the transaction of that one.
    middle = SWEPT // 2
    params = connection.settings_dict
    holder = psycopg2.connect(
        dbname=params["NAME"],
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"] or "postgres",
        password=params["PASSWORD"] or None,
    )
    try:
        with holder.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {Application._meta.db_table} WHERE id = %s FOR UPDATE", [pairs[middle][0].pk]
            )
        mail_dir = tmp_path / "mail"
        env = django_env(own_redis.url, mail_dir, CELERY_TASK_ALWAYS_EAGER="true")  # e-mails in-process
        with (tmp_path / "sweep.log").open("w") as log:
            sweep = processes(
                [sys.executable, "-c", SWEEP], env=env, stdout=subprocess.PIPE, stderr=log, text=True
            )
        pid = int(sweep.stdout.readline() or 0)
        assert pid, (tmp_path / "sweep.log").read_text()
        deadline = time.monotonic() + 60
        while (backend_state(pid) or (None, None))[1] != "Lock":
            assert sweep.poll() is None, (tmp_path / "sweep.log").read_text()
            assert time.monotonic() < deadline, "the sweep did not reach the locked application in 60 s"
            time.sleep(0.05)
        assert approvals() == middle
        assert Announcement.objects.filter(closed_at__isnull=False).count() == middle

        stop_process(sweep, signal.SIGKILL)
    finally:
        holder.rollback()
        holder.close()
    # The dead process's transaction (the announcement in the middle) never commits: once the lock is
    # released its backend finds the client gone and ends, rolling back (and releasing the announcement).
    deadline = time.monotonic() + 15
    while backend_state(pid) is not None:
        assert time.monotonic() < deadline, "the killed sweep's backend still holds its locks after 15 s"
        time.sleep(0.05)
    assert approvals() == middle
    assert len(mails(mail_dir)) == middle  # the killed process e-mailed what it had committed

    assert publicity.close_expired() == {"closed": SWEPT - middle, "approved": SWEPT - middle, "waiting": 0}
    assert publicity.close_expired() == {"closed": 0, "approved": 0, "waiting": 0}

    for application, announcement in pairs:
        assert Application.objects.get(pk=application.pk).status == Status.APPROVED
        [event] = ApplicationEvent.objects.filter(application_id=application.pk, action="approve")
        assert (event.actor, event.from_status, event.to_status) == (None, "publicity", "approved")
        [note] = Notification.objects.filter(recipient=application.created_by)
        assert note.link == reverse("applications:detail", args=[application.pk])
        assert Announcement.objects.get(pk=announcement.pk).closed_at is not None
    assert len(mails(mail_dir)) + len(mailoutbox) == SWEPT  # one e-mail per approval, none twice
    assert len({message.to[0] for message in mailoutbox}) == SWEPT - middle
