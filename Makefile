# Kartoteka: `make run` runs the whole system, `make test` runs the tests.
# Everything installs itself into .venv on first use; only Python 3.11, make and a C compiler are needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast lint bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/kartoteka up

test: $(STAMP)
	$(BIN)/python -m pytest -q -rs -p no:cacheprovider -n 2 --dist loadscope tests

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

lint: $(STAMP)
	$(BIN)/ruff check events services kartoteka tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -c 'import locust, matplotlib, tqdm' 2>/dev/null && test -x $(BIN)/py-spy \
		|| $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	command -v wrk >/dev/null || { test "$$(id -u)" = 0 && apt-get update -qq && apt-get install -y -qq wrk; } \
		|| { echo "make bench needs wrk (apt-get install wrk)"; exit 1; }
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	# The detectors' quality (issue 17): recall per scenario, false alerts per 100 employee-days.
	$(BIN)/kartoteka simulate-staff --runs 10 --inject all --out bench/results/detectors.json

clean:
	rm -rf $(VENV) .kartoteka-test
