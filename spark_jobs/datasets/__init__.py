"""What each dataset adds to the generic transform: its own fixes, derived columns and suite parameters.

A module here is named after its dataset (``warehouse/datasets/<name>/``) and provides
``prepare(values, text)`` (adds or replaces typed columns in ``values``) and
``suite_parameters(ingested_at)`` (the ``$PARAMETER`` values its validation suite uses).
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from retail_insights.errors import ConfigError, did_you_mean

DATASETS = ("retail_sales", "superstore")


def rules_for(dataset: str) -> ModuleType:
    if dataset not in DATASETS:
        raise ConfigError(f"the transform has no dataset module for {dataset!r}.",
                          hint=did_you_mean(dataset, DATASETS) + " Fix: add spark_jobs/datasets/<name>.py.")
    return import_module(f"spark_jobs.datasets.{dataset}")
