"""superstore (SPEC 4): its own columns and semantics; only order-date parts and days to ship are derived.

State stays the full name as given and Region stays Superstore's own (Central, East, South, West).
Postal codes that lost leading zeros to a spreadsheet (fewer than 5 digits, e.g. ``5408``) get them
back: every Superstore row is in the US, where ZIP codes have 5 digits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


def prepare(values: dict[str, pa.Array], text: dict[str, pa.Array]) -> None:
    postal = values["postal_code"]
    short = pc.fill_null(pc.match_substring_regex(postal, r"^\d{1,4}$"), False)
    values["postal_code"] = pc.if_else(short, pc.utf8_lpad(postal, width=5, padding="0"), postal)
    order_date = values["order_date"]
    values["year"] = pc.year(order_date).cast(pa.int32())
    values["month"] = pc.month(order_date).cast(pa.int32())
    days = pc.subtract(values["ship_date"].cast(pa.int32()), order_date.cast(pa.int32()))
    values["days_to_ship"] = days


def suite_parameters(ingested_at: datetime) -> dict[str, Any]:
    return {}
