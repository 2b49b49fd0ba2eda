"""What reading a chunk gives back: its rows as text and the lines that could not be rows.

Shared by ``spark_jobs.readers`` and the format parsers it calls (``csv_format``,
``json_format``), so those import it from here and never the readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Malformed:
    line: int
    reason: str
    text: str  # the raw line; undecodable bytes as \\x escapes


@dataclass(frozen=True)
class RawChunk:
    rows: pd.DataFrame  # the file's columns as text, plus ``source_line``
    malformed: list[Malformed] = field(default_factory=list)
