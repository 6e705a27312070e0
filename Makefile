# Accord's two commands, and the few that go with them.
#   make demo   install, migrate, load demo data, run the main job, serve on :8000
#   make test   the whole suite (PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set)
#   make simulate SEEDS=N STEPS=M   the money-loop simulation over seeds 1..N (needs both)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=
# Two workers pay off on this 2-core machine; `make test PYTEST_WORKERS=0` runs in one process.
PYTEST_WORKERS ?= 2

.PHONY: install demo test lint format bench simulate clean

$(INSTALLED): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(INSTALLED)

install: $(INSTALLED)

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py serve_demo

test: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

SEEDS ?= 20
STEPS ?= 30
# One seed at a time per pytest worker; a failing seed prints how to replay it.
simulate: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) tests/simulation/test_simulation.py \
		--sim-seeds $(SEEDS) --sim-steps $(STEPS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
