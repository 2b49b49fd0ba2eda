"""Request and response bodies of the HTTP API (they are also its OpenAPI schema)."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import TYPE_CHECKING, Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from assistant.answer import Answer

if TYPE_CHECKING:
    from warehouse.spec import Dataset

# Dates the time resolver can shift by years in both directions without leaving ``date``'s range.
MIN_AS_OF, MAX_AS_OF = date(1900, 1, 1), date(2999, 12, 31)


class _Request(BaseModel):
    # Unknown fields are refused so a misspelt option ("datset") is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AskRequest(_Request):
    question: str = Field(min_length=1, description="A question in plain English; at most llm.max_question_chars.")
    dataset: str | None = Field(None, max_length=64, description="retail_sales or superstore; default: the "
                                                                  "service's default dataset.")
    as_of: date | None = Field(None, ge=MIN_AS_OF, le=MAX_AS_OF,
                               description="Resolve relative dates ('last month') against this day; default today, UTC.")
    conversation_id: str | None = Field(None, max_length=128, pattern=r"^[A-Za-z0-9_-]+$",
                                        description="The conversation_id of the last answer, to ask a follow-up "
                                                    "('and for 2022?'); without it a new conversation starts.")
    async_: bool = Field(False, alias="async", description="Queue the question and return 202 with a task id.")


def _answer_model() -> type[BaseModel]:
    """The response schema, derived from ``assistant.answer.Answer`` so the two cannot drift apart."""
    hints = get_type_hints(Answer)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(Answer):
        default = f.default if f.default is not dataclasses.MISSING else ...
        fields[f.name] = (hints[f.name], default)
    return create_model("AnswerOut", __doc__="The answer object (``assistant.answer.Answer.to_dict()``).", **fields)


AnswerOut = _answer_model()


class TaskAccepted(BaseModel):
    task_id: str
    status: Literal["queued"] = "queued"
    status_url: str


class TaskOut(BaseModel):
    task_id: str
    status: Literal["queued", "running", "done", "failed"]
    result: AnswerOut | None = None
    error: str | None = None


class SqlRequest(_Request):
    sql: str = Field(min_length=1, max_length=20_000, description="One read-only SELECT in DuckDB SQL.")
    dataset: str | None = Field(None, max_length=64, description="Whose tables are unqualified names.")


class SqlOut(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    bytes_read: int | None
    rows_read: int | None
    elapsed_ms: float
    sql: str = Field(description="What ran: the guarded query with its row limit.")


class FeedbackRequest(_Request):
    answer_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    helpful: bool
    comment: str | None = Field(None, max_length=2000)


class FeedbackOut(BaseModel):
    feedback_id: str
    answer_id: str
    stored: bool = True
    answer_known: bool = Field(description="Whether this process served the answer (its context is stored too).")


class MetricInfo(BaseModel):
    name: str
    synonyms: list[str]
    format: str


class DimensionInfo(BaseModel):
    name: str
    synonyms: list[str]
    values: list[str] | None = Field(None, description="The allowed values, for closed dimensions.")


class TimeInfo(BaseModel):
    column: str
    grains: list[str]
    other_dates: dict[str, str]


class DatasetSummary(BaseModel):
    name: str
    description: str
    default: bool
    metrics: list[MetricInfo]
    dimensions: list[DimensionInfo]
    time: TimeInfo
    examples: list[str]

    @classmethod
    def of(cls, dataset: Dataset, *, default: bool = False) -> DatasetSummary:
        model = dataset.semantic
        return cls(
            name=dataset.spec.name, description=dataset.spec.description, default=default,
            metrics=[MetricInfo(name=n, synonyms=list(m.synonyms), format=m.format) for n, m in model.metrics.items()],
            dimensions=[DimensionInfo(name=n, synonyms=list(d.synonyms), values=list(d.values) if d.values else None)
                        for n, d in model.dimensions.items()],
            time=TimeInfo(column=model.time_dimension.column, grains=list(model.time_dimension.grains),
                          other_dates=dict(model.time_dimension.other_dates)),
            examples=list(model.examples),
        )


class DatasetsOut(BaseModel):
    datasets: list[DatasetSummary]


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    redis: Literal["up", "down", "off"]
    async_tasks: bool
    quotas: Literal["on", "off"]
    auth: bool
    llm: Literal["configured", "off"]
    vector: str
    assistant: Literal["warm", "cold"]


class ReadyOut(BaseModel):
    ready: bool
    warm_up_s: float | None = Field(None, description="how long warm-up took, once done")
    steps: dict[str, float] = Field({}, description="seconds per warm-up step")
    failed: dict[str, str] = Field({}, description="warm-up steps that failed, and why")
    primed: int = Field(0, description="questions of the query log answered ahead of traffic")


class ErrorOut(BaseModel):
    detail: str
    code: str
    request_id: str | None = None


class BatchHealth(BaseModel):
    batch_id: str
    at: str | None = Field(description="when the batch was ingested (ISO-8601 UTC)")
    files: list[str] = Field(description="the file names the batch read (names only, no server paths)")
    input_rows: int
    written_rows: int
    quarantined_rows: int
    duplicate_rows: int
    warning_rows: int
    quarantined_by_code: dict[str, int]
    accounted: bool = Field(description="input_rows = written_rows + quarantined_rows + duplicate_rows")
    delta_version: int | None
    dq_passed: bool | None = Field(None, description="whether every validation rule passed; None without a result")
    data_docs_url: str | None = Field(None, description="the batch's Great Expectations Data Docs page")


class QuarantineHealth(BaseModel):
    total_rows: int
    by_code: dict[str, int] = Field(description="rows per reason code (a row with several codes counts under each)")


class DatasetHealth(BaseModel):
    name: str
    data_version: int | None = Field(description="the silver table's newest data commit, as answers report it")
    updated_at: str | None = Field(description="when that commit was written (ISO-8601 UTC)")
    age_s: float | None = Field(description="seconds since updated_at")
    batches: list[BatchHealth] = Field(description="the last file batches, newest first")
    quarantine: QuarantineHealth


class StreamHealth(BaseModel):
    name: str = Field(description="topic.group of the consumer")
    last_batch_at: str
    last_batch_age_s: float
    lag_p95_s: float | None = Field(description="event to queryable, p95 of the last micro-batch")
    events: int = Field(description="events in the last micro-batch")
    written: int
    dlq: int
    batches: int = Field(description="micro-batches in the metrics read")


class DataHealthOut(BaseModel):
    datasets: list[DatasetHealth]
    streams: list[StreamHealth] = Field(description="consumers that have written metrics; empty when none ran")
    data_docs_url: str | None = Field(description="the Data Docs index, once a batch was validated")
