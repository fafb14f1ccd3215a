.PHONY: run test lint
run:  ## install, migrate, seed the demo, start web + Celery worker + beat
	scripts/run.sh
test:  ## the whole test suite (real PostgreSQL, Redis, Celery worker, Chromium)
	scripts/test.sh
lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
