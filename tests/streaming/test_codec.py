"""Events on the wire: keys, and decoding payloads into the raw text the batch rules validate."""

from __future__ import annotations

import json

import pytest

from streaming.codec import decode, encode_event, event_key

FIELDS = ["order_id", "quantity", "state"]


def test_key_is_the_trimmed_order_id_so_padded_versions_share_a_partition() -> None:
    assert event_key({"order_id": "  ORD-7 "}) == b"ORD-7"
    assert event_key({"order_id": "ORD-7"}) == b"ORD-7"


@pytest.mark.parametrize("event", [{"order_id": "   "}, {"order_id": ""}, {}, {"order_id": None}])
def test_event_without_a_usable_order_id_gets_no_key(event: dict) -> None:
    assert event_key(event) is None


def test_string_events_decode_to_their_text_in_order() -> None:
    payloads = [encode_event({"order_id": f"O-{i}", "quantity": str(i), "state": "ca"}) for i in range(5)]
    decoded = decode(payloads, fields=FIELDS)
    assert decoded.malformed == ()
    assert decoded.index.tolist() == [0, 1, 2, 3, 4]
    assert decoded.rows.column("order_id").to_pylist() == [f"O-{i}" for i in range(5)]
    assert decoded.rows.column("quantity").to_pylist() == ["0", "1", "2", "3", "4"]


def test_numbers_and_nulls_decode_like_a_csv_field_would_read() -> None:
    payloads = [b'{"order_id": "A", "quantity": 3, "state": null}',
                b'{"order_id": "B", "quantity": 2.5}',
                b'{"order_id": "C", "quantity": "4", "extra": {"ignored": true}}']
    decoded = decode(payloads, fields=FIELDS)
    assert decoded.rows.to_pylist() == [
        {"order_id": "A", "quantity": "3", "state": None},
        {"order_id": "B", "quantity": "2.5", "state": None},
        {"order_id": "C", "quantity": "4", "state": None},
    ]


def test_the_slow_path_gives_the_same_text_as_the_fast_path() -> None:
    events = [{"order_id": f"O-{i}", "quantity": str(i), "state": "Texas ü"} for i in range(10)]
    fast = decode([encode_event(e) for e in events], fields=FIELDS)
    # One number in the batch sends its chunk through json.loads, record by record.
    slow = decode([encode_event(e) for e in events] + [b'{"order_id": "N", "quantity": 1}'], fields=FIELDS)
    assert slow.rows.slice(0, 10).to_pylist() == fast.rows.to_pylist()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty payload"),
        (None, "empty payload"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON list, not an object"),
        (b'"ORD-1"', "JSON str, not an object"),
        (b'{"order_id": "A", "quantity": [1]}', "field 'quantity' holds a JSON list"),
        (b'{"order_id": "\\ud800"}', "lone surrogate"),
    ],
)
def test_undecodable_payload_is_malformed_with_a_reason_and_the_rest_still_decode(
    payload: bytes | None, reason: str
) -> None:
    good = encode_event({"order_id": "OK", "quantity": "1", "state": "CA"})
    decoded = decode([good, payload, good], fields=FIELDS)
    assert [m.index for m in decoded.malformed] == [1]
    assert reason in decoded.malformed[0].reason
    assert decoded.index.tolist() == [0, 2]
    assert decoded.rows.column("order_id").to_pylist() == ["OK", "OK"]


def test_two_objects_in_one_payload_are_malformed_not_two_events() -> None:
    decoded = decode([b'{"order_id": "A"}{"order_id": "B"}', encode_event({"order_id": "C"})], fields=FIELDS)
    assert [m.index for m in decoded.malformed] == [0]
    assert decoded.rows.column("order_id").to_pylist() == ["C"]


def test_encoded_event_is_compact_utf8_json() -> None:
    assert json.loads(encode_event({"city": "Málaga"})) == {"city": "Málaga"}
    assert b" " not in encode_event({"a": "b", "c": "d"})
