"""Public credit grade (公共信用综合评价): score = base + bonuses − deductions,
mapped to A/B/C/D by thresholds. The scheme is data (``data/grade_scheme.json``)
with an id and effective date; every grade says which scheme produced it. It is
computed from the hits of each check, so it is always current."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Grade:
    scheme: str
    score: int
    grade: str
    label_zh: str
    label_en: str

    def as_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "score": self.score, "grade": self.grade,
                "label_zh": self.label_zh, "label_en": self.label_en}


@cache
def default_scheme() -> dict[str, Any]:
    text = resources.files("creditcase.core").joinpath("data", "grade_scheme.json").read_text("utf-8")
    return json.loads(text)


def _weight(table: dict[str, int], code: str) -> int:
    """Most specific key wins: ``RECORD:penalty:serious`` before ``RECORD:penalty:``."""
    if code in table:
        return table[code]
    if code.startswith("RECORD:"):
        return table.get(code.rsplit(":", 1)[0] + ":", 0)
    return 0


def compute(hit_codes: Iterable[str], scheme: dict[str, Any] | None = None) -> Grade:
    """``hit_codes``: ``RECORD:<kind>:<severity>`` for records, ``LIST:<color>`` for list entries."""
    scheme = scheme or default_scheme()
    score = scheme["base_score"]
    for code in hit_codes:
        score -= _weight(scheme["deductions"], code)
        score += _weight(scheme["bonuses"], code)
    score = min(score, scheme["max_score"])
    for row in scheme["grades"]:
        if score >= row["min"]:
            return Grade(scheme["id"], score, row["grade"], row["label_zh"], row["label_en"])
    raise ValueError("grade scheme has no catch-all row")
