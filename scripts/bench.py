"""The benchmark: the portal under gunicorn (production settings) on the large data set, loaded with wrk
from this machine, next to a bare Django view serving 50 rows from PostgreSQL, measured in the same run.

Usage: scripts/bench [--seconds 10] [--connections 16]   (see README). Prints a table; changes only the
benchmark database (default postgres://postgres@127.0.0.1:5432/cqmic_bench), which it creates and seeds.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
PY = str(BASE / ".venv" / "bin" / "python")
GUNICORN = str(BASE / ".venv" / "bin" / "gunicorn")
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cqmic_bench")
PORTAL, BARE = 8801, 8802
LUA = str(BASE / "scripts" / "bench_report.lua")
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def env(**extra):
    return {
        **os.environ,
        "DATABASE_URL": DB_URL,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "bench-only-" + "k" * 50,
        "FIELD_ENCRYPTION_KEYS": "YmVuY2gtb25seS1maWVsZC1rZXktMDAwMDAwMDAwMDA=",
        "FIELD_HASH_KEY": "bench-only-hash-key",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "TWO_FACTOR_ROLES": "",  # the benchmark signs in with prepared sessions (no authenticator app)
        "STATIC_ROOT": str(BASE / "var" / "bench-static"),
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": BENCH_REDIS,  # a Redis database of its own: no tasks or cache of a development server
        "EMAIL_URL": "dummymail://",
        **extra,
    }


def manage(*args, **extra):
    return subprocess.run(
        [PY, "manage.py", *args], cwd=BASE, env=env(**extra), check=True, capture_output=True, text=True
    ).stdout


def django_code(code: str, **extra) -> str:
    return subprocess.run(
        [PY, "-c", "import django; django.setup()\n" + code],
        cwd=BASE,
        env=env(**extra),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def prepare():
    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_URL.rsplit("/", 1)[1]], capture_output=True
    )
    manage("migrate", "--no-input")
    count = int(
        django_code("from applications.models import Application; print(Application.objects.count())")
    )
    if count < 10_000:
        print("seeding the large data set (seed_demo + seed_scale) ...", flush=True)
        manage("seed_demo")
        manage("seed_scale")
    subprocess.run(["psql", DB_URL, "-qc", "VACUUM ANALYZE"], check=True)
    django_code(
        "from django.core.cache import cache; cache.clear()"
    )  # the bench's own Redis database  # planner statistics, visibility
    manage("collectstatic", "--no-input")


def sessions() -> dict:
    """Session cookies for a staff member, an expert with many assignments, made in the database."""
    out = django_code(
        """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db.models import Count
from accounts.models import User
from applications.models import Application
def cookie(user):
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk); s[BACKEND_SESSION_KEY] = "accounts.backends.PortalModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash(); s.create(); return s.session_key
staff = User.objects.get(username="staff_demo")
expert = User.objects.filter(groups__name="expert").annotate(n=Count("assignments")).order_by("-n").first()
app = Application.objects.filter(status="rejected").annotate(n=Count("events")).order_by("-n", "pk").first()
print(cookie(staff), cookie(expert), app.pk, expert.username)
"""
    )
    staff, expert, app, expert_name = out.split()
    return {"staff": staff, "expert": expert, "application": app, "expert_name": expert_name}


def page_owner(name: str):
    return "expert" if "expert" in name else None if "public" in name else "staff"


def start(cmd, **extra) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        cwd=BASE,
        env=env(**extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_up(port):
    for _ in range(100):
        try:
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}/healthz" if port == PORTAL else f"http://127.0.0.1:{port}/",
                timeout=2,
            )
            return
        except Exception:
            time.sleep(0.2)
    sys.exit(f"server on {port} did not start")


def wrk(url, seconds, connections, cookie=None) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", LUA, url]
    if cookie:
        cmd[1:1] = ["-H", f"Cookie: sessionid={cookie}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"\s+(50|75|90|99)%\s+([\d.]+\w+)", out))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p95 = int(re.search(r"p95_us (\d+)", out).group(1)) / 1000
    return {
        "rps": rps,
        "p50": lat.get("50"),
        "p90": lat.get("90"),
        "p95": f"{p95:.2f}ms",
        "p99": lat.get("99"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def rss_mb(pid) -> float:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    sizes = [
        int(subprocess.run(["ps", "-o", "rss=", "-p", c], capture_output=True, text=True).stdout or 0)
        for c in children
    ]
    return max(sizes, default=0) / 1024


def timed(code: str, **extra) -> float:
    return float(
        django_code("import time\nt=time.perf_counter()\n" + code + "\nprint(time.perf_counter()-t)", **extra)
    )


COLD = """
import json, sys, time
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from accounts.models import User
from config import fragments
pages, explain = json.loads(sys.argv[1]), int(sys.argv[2])
slowest = []
for name, url, username in pages:
    client = Client(HTTP_HOST="127.0.0.1")
    if username:
        client.force_login(User.objects.get(username=username))
    client.get(url)
    times = []
    for _ in range(5):
        for scope in fragments.SCOPES:  # the public pages' scope too
            fragments.bump(scope)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        slowest += [(float(q["time"]), name, q["sql"]) for q in queries.captured_queries]
    print(f"{name:42} {len(queries.captured_queries):>8} {sorted(times)[2]:>12.1f}")
if explain:
    seen = set()
    for seconds, name, sql in sorted(slowest, reverse=True):
        if sql.startswith("DECLARE"):
            sql = sql.split(" FOR ", 1)[1]
        if sql in seen or "django_session" in sql:
            continue
        seen.add(sql)
        print(f"\\n--- {name}: {seconds * 1000:.1f} ms\\n{sql}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            print("\\n".join(row[0] for row in cursor.fetchall()))
        if len(seen) == explain:
            break
"""


# 1,000 (n) applications in publicity, each alone in an announcement whose period ended a minute ago.
DUE = """
import time
from datetime import timedelta
from django.utils import timezone
from applications.models import Application
from evaluation.models import Announcement, AnnouncementEntry
from accounts.models import User
staff = User.objects.get(username="staff_demo")
template = Application.objects.filter(status="rejected").first()
copies = []
for i in range({n}):
    template.pk = None
    template.number = f"BENCH-{{timezone.now():%H%M%S%f}}-{{i}}"
    values = {{f.attname: getattr(template, f.attname) for f in Application._meta.concrete_fields}}
    copies.append(Application(**{{**values, "status": "publicity"}}))
apps = Application.objects.bulk_create(copies)
now = timezone.now()
anns = Announcement.objects.bulk_create([Announcement(title=f"bench {{i}}", list_type="recognise",
    starts_at=now - timedelta(days=9), ends_at=now - timedelta(minutes=1), working_days=5, contact_person="x",
    contact_phone="x", contact_address="x", supervision_phone="x", created_by=staff) for i in range({n})])
AnnouncementEntry.objects.bulk_create(
    [AnnouncementEntry(announcement=an, application=a) for an, a in zip(anns, apps)]
)
ids = [a.pk for a in anns]
"""
SWEEP_IN_PROCESS = """
from evaluation.publicity import close_expired
t = time.perf_counter()
result = close_expired()
assert result["approved"] == len(ids), result
"""
SWEEP_SHARED_OUT = """
import os, signal, subprocess
from config.celery import app
from evaluation.tasks import close_expired_publicity
worker = subprocess.Popen(
    ["{python}", "-m", "celery", "-A", "config", "worker", "-c", "2", "--without-mingle", "--without-gossip",
     "--loglevel", "WARNING"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
)
for _ in range(100):
    if app.control.inspect(timeout=0.5).ping():
        break
app.control.purge()  # the e-mail tasks the in-process sweep queued: not part of this measurement
t = time.perf_counter()
close_expired_publicity.delay()
while Announcement.objects.filter(pk__in=ids, closed_at__isnull=True).exists():
    time.sleep(0.05)
elapsed = time.perf_counter() - t
os.killpg(worker.pid, signal.SIGTERM)
worker.wait(timeout=60)
assert Application.objects.filter(pk__in=[a.pk for a in apps], status="approved").count() == len(ids)
t = time.perf_counter() - elapsed  # what timed() prints: the time until the last period was closed
"""
EXPORT = """
import time
from accounts.models import User
from reports.exports import build
from reports.models import ExportJob
job = ExportJob.objects.create(owner=User.objects.get(username="staff_demo"), kind="applications", params={})
t = time.perf_counter()
build(job)
print(job.total_rows, time.perf_counter() - t)
"""


def cold(pages, explain: int) -> str:
    """Each page rendered in full (every cached fragment invalidated): the median of five, in-process."""
    import json

    done = subprocess.run(
        [PY, "-c", "import django; django.setup()\n" + COLD, json.dumps(pages), str(explain)],
        cwd=BASE,
        env=env(),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(done.stdout + done.stderr)
    return done.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", default="", help="comma-separated words: load only the pages named so")
    parser.add_argument("--no-jobs", action="store_true", help="skip the sweep and export timings")
    parser.add_argument("--explain", type=int, default=2, help="EXPLAIN ANALYZE the N slowest queries")
    args = parser.parse_args()
    prepare()
    cookies = sessions()
    portal = start([GUNICORN, "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{PORTAL}"])
    bare = start(
        [GUNICORN, "scripts.bench_baseline.wsgi", "-w", "2", "-b", f"127.0.0.1:{BARE}"],
        DJANGO_SETTINGS_MODULE="scripts.bench_baseline.settings",
    )
    try:
        wait_up(PORTAL)
        wait_up(BARE)
        pages = [
            ("bare Django, 50 rows from PostgreSQL", f"http://127.0.0.1:{BARE}/", None, None),
            ("public announcements", f"http://127.0.0.1:{PORTAL}/announcements/", None, 0.6),
            ("public centre directory", f"http://127.0.0.1:{PORTAL}/centres/", None, 0.6),
            (
                "staff workbench (50 rows, filtered)",
                f"http://127.0.0.1:{PORTAL}/review/staff/?status=rejected",
                cookies["staff"],
                0.4,
            ),
            ("expert's assignments", f"http://127.0.0.1:{PORTAL}/review/expert/", cookies["expert"], 0.4),
            (
                "application page with history",
                f"http://127.0.0.1:{PORTAL}/review/applications/{cookies['application']}/",
                cookies["staff"],
                0.4,
            ),
            ("dashboard", f"http://127.0.0.1:{PORTAL}/after-award/dashboard/", cookies["staff"], 0.4),
        ]
        if args.only:
            words = args.only.split(",")
            pages = pages[:1] + [p for p in pages[1:] if any(w in p[0] for w in words)]
        for _name, url, cookie, _target in pages:  # warm up caches and connections
            wrk(url, 2, 4, cookie)
        results = [
            (name, wrk(url, args.seconds, args.connections, cookie), target)
            for name, url, cookie, target in pages
        ]
        memory = rss_mb(portal.pid)
    finally:
        for proc in (portal, bare):
            os.killpg(proc.pid, signal.SIGTERM)
    floor = results[0][1]["rps"]
    print(
        f"\nwrk -t2 -c{args.connections} -d{args.seconds}s on this machine ({os.cpu_count()} cores), "
        "gunicorn 2 sync workers, production settings\n"
    )
    print(
        f"{'page':42} {'req/s':>8} {'ratio':>6} {'target':>7} {'p50':>9} {'p90':>9} {'p95':>9} {'p99':>9} "
        f"{'non-2xx':>8}"
    )
    for name, r, target in results:
        ratio = r["rps"] / floor
        print(
            f"{name:42} {r['rps']:8.1f} {ratio:6.2f} {f'≥ {target:.1f}' if target else '':>7} "
            f"{r['p50']:>9} {r['p90']:>9} {r['p95']:>9} {r['p99']:>9} {r['errors']:>8}"
        )
    print(f"\nlargest web worker RSS after the load: {memory:.0f} MB")
    signed_in = {"staff": "staff_demo", "expert": cookies["expert_name"]}
    uncached = [
        (name, url.replace(f"http://127.0.0.1:{PORTAL}", ""), signed_in.get(who))
        for (name, url, _c, _t), who in zip(pages, [page_owner(name) for name, *_ in pages], strict=True)
        if url.startswith(f"http://127.0.0.1:{PORTAL}")
    ]
    print("\nthe same pages rendered in full (cached fragments invalidated), in-process, median of 5:")
    print(f"{'page':42} {'queries':>8} {'ms':>12}")
    print(cold(uncached, args.explain))
    if args.no_jobs:
        return
    # The jobs write (1,000 more applications each sweep): they run on a copy, the data set stays as seeded.
    subprocess.run(["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", JOBS_DB], check=True)
    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", "-T", DB_URL.rsplit("/", 1)[1], JOBS_DB], check=True
    )
    try:
        jobs()
    finally:
        subprocess.run(["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", JOBS_DB], check=True)


JOBS_DB = "cqmic_bench_jobs"


def jobs():
    copy = {"DATABASE_URL": DB_URL.rsplit("/", 1)[0] + "/" + JOBS_DB}
    shared = timed(DUE.format(n=1000) + SWEEP_SHARED_OUT.format(python=PY), **copy)
    sweep = timed(DUE.format(n=1000) + SWEEP_IN_PROCESS, **copy)
    print(f"deadline sweep closing 1,000 expired periods, in one process: {sweep:.1f} s")
    print(
        f"the same, as the beat runs it: shared out to one Celery worker with 2 processes: {shared:.1f} s "
        "(until the last period is closed; the e-mails follow)"
    )
    rows, export = django_code(EXPORT, **copy).split()
    print(f"export of the applications list ({int(rows):,} rows) to Excel: {float(export):.1f} s")


if __name__ == "__main__":
    main()
