"""The daily backup: retention that keeps exactly what it promises, the record of every run (size, checksum,
duration, success) for the system administrator, and a failure that tells the administrators."""

import hashlib
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.urls import reverse

from accounts.backups import FOLDER_FORMAT, apply_retention, retained, run_scheduled_backup
from accounts.models import BackupRun, Notification
from accounts.roles import Role
from tests.factories import user_with_role


def name(*args) -> str:
    """The folder of a backup started at this UTC moment."""
    return datetime(*args, tzinfo=UTC).strftime(FOLDER_FORMAT)


def test_the_retention_keeps_the_newest_of_each_recent_day_and_the_first_of_each_recent_month():
    # Days and months are China's (UTC+8): 2026-11-30T17:00Z is already 1 December in Chongqing.
    names = [
        name(2026, 9, 3, 18, 30),  # 2026-09-04 02:30 local: first of September
        name(2026, 9, 20, 18, 30),
        name(2026, 10, 1, 18, 30),  # first of October (local 10-02)
        name(2026, 10, 15, 18, 30),
        name(2026, 11, 30, 17, 0),  # local 2026-12-01 01:00: first of December
        name(2026, 12, 1, 3, 0),  # local 12-01 11:00: newest of 12-01
        name(2026, 12, 2, 18, 30),  # local 12-03
        name(2026, 12, 3, 1, 0),  # local 12-03 09:00: newest of 12-03
        name(2026, 12, 3, 18, 30),  # local 12-04 02:30
        "notes",  # not a backup: never considered
    ]
    assert retained(names, keep_daily=3, keep_monthly=3) == {
        name(2026, 12, 3, 18, 30),  # 12-04
        name(2026, 12, 3, 1, 0),  # 12-03
        name(2026, 12, 1, 3, 0),  # 12-01
        name(2026, 11, 30, 17, 0),  # December's first
        name(2026, 10, 1, 18, 30),  # October's first
        # November has none, so the third month is September
        name(2026, 9, 3, 18, 30),
    }
    assert retained(names, keep_daily=1, keep_monthly=0) == {name(2026, 12, 3, 18, 30)}
    assert retained(names, keep_daily=0, keep_monthly=1) == {name(2026, 11, 30, 17, 0)}
    assert retained([], keep_daily=7, keep_monthly=12) == set()


def test_apply_retention_removes_only_what_is_not_kept(tmp_path):
    # local days 12-04 and 12-03 (newest of each), the first of December (local 12-02 09:00) and of November
    keep = [
        name(2026, 12, 3, 18, 30),
        name(2026, 12, 2, 18, 30),
        name(2026, 12, 2, 1, 0),
        name(2026, 11, 1, 18, 30),
    ]
    drop = [name(2026, 12, 2, 5, 0), name(2026, 11, 20, 18, 30)]
    for folder in keep + drop + ["manual-copy"]:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "database.dump").write_bytes(b"x")
    (tmp_path / "README.txt").write_text("not a backup")
    assert apply_retention(tmp_path, keep_daily=2, keep_monthly=2) == sorted(drop)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*keep, "manual-copy", "README.txt"])


def test_the_backup_runs_daily_in_beat():
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "accounts.tasks.run_backup"]
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert isinstance(schedule, crontab)
    assert len(schedule.hour) == 1 and len(schedule.minute) == 1
    assert schedule.day_of_week == set(range(7)) and schedule.day_of_month == set(range(1, 32))


@pytest.mark.django_db
def test_a_scheduled_backup_is_recorded_and_shown_to_the_system_administrator(tmp_path, settings, client):
    settings.BACKUP_ROOT = tmp_path / "backups"
    settings.BACKUP_KEEP_DAILY, settings.BACKUP_KEEP_MONTHLY = 2, 0
    Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
    (Path(settings.MEDIA_ROOT) / "a.pdf").write_bytes(b"%PDF-1.4 test")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime(FOLDER_FORMAT)
    last_week = (datetime.now(UTC) - timedelta(days=7)).strftime(FOLDER_FORMAT)
    for old in (yesterday, last_week):
        (settings.BACKUP_ROOT / old).mkdir(parents=True)

    from accounts.tasks import run_backup

    result = run_backup.apply().get()
    run = BackupRun.objects.get()
    assert result["success"] is True and run.success
    folder = Path(run.folder)
    assert folder.parent == settings.BACKUP_ROOT
    assert sorted(p.name for p in settings.BACKUP_ROOT.iterdir()) == sorted([yesterday, folder.name])
    assert run.removed == last_week
    files = ["SHA256SUMS", "database.dump", "manifest.json", "media.tar.gz"]
    assert sorted(p.name for p in folder.iterdir()) == files
    assert run.size_bytes == sum((folder / f).stat().st_size for f in files)
    assert run.sha256 == hashlib.sha256((folder / "SHA256SUMS").read_bytes()).hexdigest()
    assert run.duration_seconds > 0 and run.finished_at >= run.started_at
    check = subprocess.run(["sha256sum", "--check", "SHA256SUMS"], cwd=folder, capture_output=True)
    assert check.returncode == 0
    assert Notification.objects.count() == 0

    system_admin = user_with_role(Role.SYSTEM_ADMIN, is_staff=True)
    client.force_login(system_admin)
    page = client.get(reverse("admin:accounts_backuprun_changelist"))
    assert page.status_code == 200 and folder.name in page.content.decode()
    home = client.get(reverse("accounts:system_admin_home")).content.decode()
    assert folder.name in home and "成功" in home
    client.force_login(user_with_role(Role.COMMISSION_STAFF, is_staff=True))
    assert client.get(reverse("admin:accounts_backuprun_changelist")).status_code == 403


@pytest.mark.django_db
def test_a_failed_backup_is_recorded_and_the_system_administrators_are_told(tmp_path, settings, client):
    admins = [user_with_role(Role.SYSTEM_ADMIN, is_staff=True) for _ in range(2)]
    bystander = user_with_role(Role.COMMISSION_STAFF)
    settings.BACKUP_ROOT = tmp_path / "not-a-folder"
    settings.BACKUP_ROOT.write_text("the backup disk is not mounted")

    run = run_scheduled_backup()
    assert not run.success and run.error
    assert run.size_bytes is None and run.finished_at is not None
    assert settings.BACKUP_ROOT.read_text() == "the backup disk is not mounted"
    notes = Notification.objects.filter(subject__contains="备份失败")
    assert sorted(n.recipient_id for n in notes) == sorted(a.pk for a in admins)
    assert not Notification.objects.filter(recipient=bystander).exists()
    assert run.error[:40] in notes[0].body
    client.force_login(admins[0])
    home = client.get(reverse("accounts:system_admin_home")).content.decode()
    assert "失败" in home
