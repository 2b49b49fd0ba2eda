"""The rq worker that answers async questions: ``python -m assistant.http.worker [--burst]``.

It builds one warm assistant (the same composition root as the API) and runs rq's
``SimpleWorker``, which answers jobs in this process instead of forking one child per job: the
assistant's in-process cache, vocabularies and embedding model stay warm between questions, and a
question cannot crash the process (``Assistant.answer`` turns failures into answers). Scale by
starting more worker processes. Job timeouts still apply (rq's SIGALRM death penalty, main thread).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import logging
import sys
from typing import TYPE_CHECKING

import redis
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer

from assistant.http.logging import configure_logging
from assistant.http.tasks import QUEUE_NAME, use_assistant
from retail_insights.errors import ConfigError, RetailError
from retail_insights.settings import Settings, get_settings

if TYPE_CHECKING:
    from assistant.pipeline import Assistant

log = logging.getLogger(__name__)


def run_worker(*, settings: Settings | None = None, burst: bool = False, queue_name: str = QUEUE_NAME,
               assistant: Assistant | None = None) -> bool:
    """Answer queued questions until stopped (or, with ``burst``, until the queue is empty).

    Returns whether any job was processed.
    """
    settings = settings or get_settings()
    if not settings.redis.url:
        raise ConfigError("the worker needs Redis: RETAIL_REDIS__URL is not set.",
                          hint="Fix: set RETAIL_REDIS__URL=redis://host:port/0 (the same as the API's).")
    if assistant is None:
        from assistant.factory import build_assistant

        assistant = build_assistant(settings)
    use_assistant(assistant)
    # No socket timeout here: the worker blocks on the queue for long stretches on purpose.
    connection = redis.Redis.from_url(settings.redis.url)
    queue = Queue(queue_name, connection=connection, serializer=JSONSerializer)
    worker = SimpleWorker([queue], connection=connection, serializer=JSONSerializer)
    log.info("worker %s listening on queue %r", worker.name, queue_name)
    return worker.work(burst=burst, logging_level="INFO")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.http.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    parser.add_argument("--queue", default=QUEUE_NAME, help=f"queue name (default {QUEUE_NAME})")
    args = parser.parse_args(argv)
    configure_logging()
    try:
        run_worker(burst=args.burst, queue_name=args.queue)
    except RetailError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
