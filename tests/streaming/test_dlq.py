"""Dead letters: what a DLQ record carries, and a reader that sees each source event once."""

from __future__ import annotations

from streaming import clients
from streaming.dlq import DlqRecord, dlq_count, dlq_topic, ensure_dlq_topic, read_dlq, send


def _record(offset: int, payload: bytes = b'{"order_id": ""}') -> DlqRecord:
    return DlqRecord(source_topic="pos", source_topic_id="id-1", partition=2, offset=offset,
                     reason_codes=("MISSING_ORDER_ID",), reasons="MISSING_ORDER_ID: order_id is empty",
                     payload=payload, event_timestamp_ms=1_700_000_000_000, group="ingest")


def test_a_dlq_record_round_trips_with_its_source_and_payload() -> None:
    record = _record(7)
    assert DlqRecord.decode(record.encode()) == record
    assert record.key() == b"pos/id-1/2/7"


def test_a_payload_that_is_not_utf8_survives_byte_for_byte() -> None:
    record = _record(8, payload=b"\xff\x00garbage")
    assert DlqRecord.decode(record.encode()).payload == b"\xff\x00garbage"


def test_the_dlq_topic_is_named_after_the_source_topic() -> None:
    assert dlq_topic("pos-events") == "pos-events.dlq"


def test_a_record_sent_twice_after_a_replay_is_read_once(kafka_bootstrap, topic) -> None:
    admin = clients.admin(kafka_bootstrap)
    producer = clients.producer(kafka_bootstrap, idempotent=False)
    try:
        assert ensure_dlq_topic(admin, topic) is True
        assert ensure_dlq_topic(admin, topic) is False
        first = [_record(1), _record(2)]
        send(producer, topic, first)
        send(producer, topic, [_record(2), _record(3)])  # the replay re-sends offset 2
    finally:
        producer.close(timeout=5)
        admin.close()
    records = read_dlq(bootstrap=kafka_bootstrap, topic=topic)
    assert [r.offset for r in records] == [1, 2, 3]
    assert records[0].reason_codes == ("MISSING_ORDER_ID",)
    assert dlq_count(kafka_bootstrap, topic) == 4  # the raw count still holds the copy


def test_a_topic_without_dead_letters_reads_empty(kafka_bootstrap, topic) -> None:
    assert read_dlq(bootstrap=kafka_bootstrap, topic=topic) == []
    assert dlq_count(kafka_bootstrap, topic) == 0
