# Local Airflow. Included from the top-level Makefile; also runs alone: `make -f mk/airflow.mk airflow`.
#   airflow   `airflow standalone` on 127.0.0.1:$(AIRFLOW_PORT) with the project's dags/, AIRFLOW_HOME
#             under $(RETAIL_HOME)/airflow (default .retail/airflow), SQLite and 2 task slots. Once it
#             is up it prints the admin login (the password standalone generated, and the file that
#             keeps it). Ctrl-C stops every Airflow process it started.
#   airflow-compose-check   validate docker-compose.airflow.yml (needs docker-compose; no engine).

PY ?= .venv/bin/python
AIRFLOW_PORT ?= 8080
COMPOSE ?= docker-compose

.PHONY: airflow airflow-compose-check

# `setup` exists only when the top-level Makefile includes this file (it defines STAMP).
airflow: $(if $(STAMP),setup,)
	$(PY) -m retail_insights.airflow_local --port $(AIRFLOW_PORT)

airflow-compose-check:
	@test -f "$${RETAIL_ENV_FILE:-.env}" || { echo "create $${RETAIL_ENV_FILE:-.env} (may be empty) first"; exit 2; }
	$(COMPOSE) -f docker-compose.airflow.yml config --quiet && echo "docker-compose.airflow.yml is valid"
