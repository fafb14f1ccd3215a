"""A real Celery worker process, consuming from the tests' Redis database."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from accounts.tasks import send_email
from config.celery import app as celery_app

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def celery_worker_process(tmp_path, settings):
    mail_dir = tmp_path / "mail"
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/" + connection.settings_dict["NAME"],
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "TEST_EMAIL_FILE_PATH": str(mail_dir),
    }
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-n", name, "-l", "INFO"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if celery_app.control.ping(destination=[name], timeout=0.5):
                break
            assert proc.poll() is None, (tmp_path / "worker.log").read_text()
        else:
            pytest.fail(
                "the Celery worker did not answer within 60 s:\n" + (tmp_path / "worker.log").read_text()
            )
        yield mail_dir
    finally:
        celery_app.conf.task_always_eager = True
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.mark.worker
@pytest.mark.django_db
def test_healthz_sees_the_worker_and_the_worker_sends_mail(client, celery_worker_process):
    data = client.get(reverse("healthz")).json()
    assert data == {"status": "ok", "database": "ok", "redis": "ok", "worker": "ok"}

    result = send_email.delay("测试主题", "正文：工作进程发送的邮件。", ["someone@example.com"])
    assert result.get(timeout=30) == 1
    sent = "".join(p.read_text() for p in celery_worker_process.iterdir())
    assert "someone@example.com" in sent
    assert "Subject: =?utf-8?" in sent  # the Chinese subject is encoded, not mangled
