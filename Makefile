# The two commands of CONTRACT §1, and a few helpers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 3
# flask seed and the server read them: without BARONG_DOMAIN, mail links go to http://$(HOST):$(PORT)
export HOST PORT
# the suite runs on both cores (pytest-xdist; one PostgreSQL database per worker)
PYTEST_WORKERS ?= -n 2 --dist loadgroup
export FLASK_APP := app

.PHONY: run test install migrate seed screenshots bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed

## make run: migrate, seed, then serve with gunicorn (exec: SIGTERM/SIGINT reach gunicorn directly)
run: seed
	exec $(BIN)/python -m barong.serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

## make test: the whole suite (SQLite by default; TEST_DATABASE_URL=postgresql+psycopg://… for PostgreSQL)
test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_WORKERS) $(PYTEST_ARGS)

screenshots: install
	$(BIN)/python -m tests.browser.screenshots

clean:
	rm -rf $(VENV) instance/*.db
