# CerCollettiva: the two everyday commands are `make run` and `make test`.
.PHONY: run test bench lint fmt messages clean

run:   ## set up what is missing (.venv, deps, migrations, demo data), then serve on 127.0.0.1:8000
	@scripts/run.sh

test:  ## set up what is missing (dev deps, PostgreSQL, Mosquitto), then the whole suite
	@scripts/test.sh

bench: ## the benchmarks, printing their figures as `bench: NAME VALUE UNIT`
	@scripts/bench.sh

lint:  ## ruff check, ruff format --check, mypy, the cercalc import check
	@scripts/ensure_venv.sh dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy cercalc cer config
	.venv/bin/python scripts/check_cercalc_pure.py

fmt:   ## ruff check --fix, ruff format
	@scripts/ensure_venv.sh dev
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

messages: ## refresh and compile the translations (needs Debian's gettext)
	.venv/bin/python manage.py makemessages -l it -l en --ignore=.venv --ignore=static/vendor
	.venv/bin/python manage.py compilemessages --ignore=.venv

clean: ## remove the virtualenv, caches and the local database
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache var/cercollettiva.sqlite3
