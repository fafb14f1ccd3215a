import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def test_production_settings_pass_check_deploy():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "k3y-for-the-deploy-check-" + "x9Q!" * 12,
        "ALLOWED_HOSTS": "portal.example.gov.cn",
        "FIELD_ENCRYPTION_KEYS": "ZGVwbG95LWNoZWNrLWZpZWxkLWtleS0wMDAwMDAwMDA=",
        "FIELD_HASH_KEY": "deploy-check-hash-key",
        "DEBUG": "true",  # production mode ignores it
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", "ALLOWED_HOSTS": "x.example"})
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_the_keys_of_the_personal_data():
    base = {k: v for k, v in os.environ.items() if not k.startswith("FIELD_")}
    base.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "k3y-for-the-deploy-check-" + "x9Q!" * 12,
            "ALLOWED_HOSTS": "x.example",
        }
    )
    cases = [
        ({}, "FIELD_ENCRYPTION_KEYS"),
        ({"FIELD_ENCRYPTION_KEYS": "ZGVwbG95LWNoZWNrLWZpZWxkLWtleS0wMDAwMDAwMDA="}, "FIELD_HASH_KEY"),
        (  # the development key is refused
            {"FIELD_ENCRYPTION_KEYS": "bG9jYWwtb25seS1maWVsZC1rZXktbm90LXNlY3JldCE=", "FIELD_HASH_KEY": "h"},
            "development keys",
        ),
    ]
    for extra, message in cases:
        result = subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=BASE_DIR,
            env={**base, **extra},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0, extra
        assert message in result.stderr, result.stderr


def _mail_settings(email_url):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "EMAIL_URL": email_url})
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings as s; print(s.EMAIL_BACKEND); print(s.EMAIL_FILE_PATH)",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_filemail_url_with_an_absolute_path_writes_to_that_absolute_folder():
    # The README's own example: three slashes mean the absolute folder /var/mail, not ./var/mail.
    backend, path = _mail_settings("filemail:///var/mail")
    assert backend == "django.core.mail.backends.filebased.EmailBackend"
    assert path == "/var/mail"


def test_filemail_url_with_a_relative_path_is_under_the_checkout():
    backend, path = _mail_settings("filemail://var/mail")
    assert backend == "django.core.mail.backends.filebased.EmailBackend"
    assert Path(path) == BASE_DIR / "var" / "mail"
