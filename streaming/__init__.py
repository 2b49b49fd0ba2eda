"""Kafka point-of-sale events: the producer, and the consumer that ingests them exactly once.

Importing this package is light: ``kafka`` (kafka-python), pandas and the Delta layer load
inside the functions that need them.

    produce(bootstrap=..., topic="pos-events", count=10_000, seed=42)
    consume(bootstrap=..., topic="pos-events", group="retail-ingest", idle_exit=10)
"""
