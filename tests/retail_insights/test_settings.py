"""Settings come from RETAIL_* variables with nested sections and constrained types."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
import pytest

from retail_insights.settings import Settings, get_settings


def test_defaults_keep_state_under_dot_retail(monkeypatch):
    monkeypatch.delenv("RETAIL_HOME", raising=False)
    assert Settings().home == Path(".retail")


def test_nested_sections_read_double_underscore_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("RETAIL_HOME", str(tmp_path))
    monkeypatch.setenv("RETAIL_LLM__MODEL", "gpt-4o-mini")
    monkeypatch.setenv("RETAIL_REDIS__URL", "redis://127.0.0.1:6390/0")
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.llm.model == "gpt-4o-mini"
    assert settings.redis.url == "redis://127.0.0.1:6390/0"
    assert settings.table_path("retail_sales", "sales") == tmp_path.resolve() / "warehouse" / "retail_sales" / "sales"


def test_secrets_are_not_printed(monkeypatch):
    monkeypatch.setenv("RETAIL_LLM__API_KEY", "sk-very-secret")
    settings = Settings()
    assert "sk-very-secret" not in repr(settings)
    assert settings.llm.api_key.get_secret_value() == "sk-very-secret"


def test_constrained_values_are_rejected_with_the_field_name(monkeypatch):
    monkeypatch.setenv("RETAIL_PIPELINE__ENGINE", "flink")
    with pytest.raises(ValidationError, match="pipeline.engine"):
        Settings()
