"""A bare Django project for the benchmark's baseline: one view, 50 rows from PostgreSQL, one template."""

import environ

env = environ.Env()
SECRET_KEY = "bench-baseline-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
MIDDLEWARE: list = []
ROOT_URLCONF = "scripts.bench_baseline.urls"
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = 60
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": False,
        "OPTIONS": {
            "loaders": [
                (
                    "django.template.loaders.locmem.Loader",
                    {
                        "rows.html": """<!DOCTYPE html>
<html><head><title>rows</title></head><body><table>{% for p in rows %}
<tr><td>{{ p.id }}</td><td>{{ p.name }}</td><td>{{ p.codename }}</td>
<td>{{ p.content_type_id }}</td></tr>{% endfor %}
</table></body></html>"""
                    },
                )
            ]
        },
    }
]
USE_TZ = True
