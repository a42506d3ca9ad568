"""Public credit grade (公共信用综合评价): score = base + bonuses − deductions,
mapped to grades (A/B/C/D) by thresholds.

A scheme is effective-dated data. The shipped one (``data/grade_scheme.json``)
is loaded into the database by :func:`ensure_shipped_scheme`; the credit
office adds new versions with :func:`add_scheme`, each with its
``effective_from``. :func:`current_scheme` is the scheme in force on a day, and
:func:`compute` uses it unless given another, so the check engine always
grades with the current scheme and every grade names the scheme that made it.

Each subject's latest grade is stored as a :class:`GradeResult` with the hash
of its inputs. :func:`recompute` refreshes it; services that change a
subject's records or list entries call it after their write (a repair must
"更新信用评价结果"). :func:`grade_for` returns the stored grade when its
inputs and scheme are still current and recomputes it otherwise, so a reader
never sees a grade older than the subject's newest change.

This module imports the record and list modules only inside functions, since
both of them call back into it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import mongoengine as me

from creditcase.core import audit
from creditcase.core.accounts import Principal
from creditcase.core.db import UnitOfWork, local_today, utcnow
from creditcase.core.errors import Conflict, PermissionDenied, RuleViolation

_WEIGHT_KEY = re.compile(r"^(RECORD:[a-z_]+:[a-z]*|LIST:(red|black))$")


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


class GradeRow(me.EmbeddedDocument):
    grade = me.StringField(required=True, max_length=8)
    min = me.IntField(required=True)
    label_zh = me.StringField(required=True)
    label_en = me.StringField(default="")


class GradeScheme(me.Document):
    """One version of the grading scheme."""

    scheme_id = me.StringField(required=True, unique=True, help_text="e.g. WG-2026-1")
    name_zh = me.StringField(required=True)
    effective_from = me.DateField(required=True)
    base_score = me.IntField(required=True)
    max_score = me.IntField(required=True)
    deductions = me.DictField(help_text="hit code -> points deducted")
    bonuses = me.DictField(help_text="hit code -> points added")
    grades = me.EmbeddedDocumentListField(GradeRow, help_text="highest threshold first")
    created_at = me.DateTimeField()
    created_by = me.StringField(default="")
    version = me.IntField(default=0)

    meta = {"collection": "grade_schemes", "indexes": ["-effective_from"]}

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.scheme_id, "name_zh": self.name_zh,
                "effective_from": self.effective_from.isoformat(),
                "base_score": self.base_score, "max_score": self.max_score,
                "deductions": dict(self.deductions or {}), "bonuses": dict(self.bonuses or {}),
                "grades": [{"grade": r.grade, "min": r.min, "label_zh": r.label_zh,
                            "label_en": r.label_en} for r in self.grades]}


class GradeResult(me.Document):
    """The latest grade of one subject."""

    subject_code = me.StringField(required=True, unique=True)
    scheme = me.StringField(required=True)
    score = me.IntField(required=True)
    grade = me.StringField(required=True)
    label_zh = me.StringField(default="")
    label_en = me.StringField(default="")
    computed_at = me.DateTimeField(required=True)
    computed_on = me.DateField(required=True, help_text="the day the inputs were taken on")
    inputs = me.ListField(me.StringField(), help_text="the hit codes graded")
    inputs_hash = me.StringField(required=True)
    version = me.IntField(default=0)

    meta = {"collection": "grade_results"}

    def as_grade(self) -> Grade:
        return Grade(self.scheme, self.score, self.grade, self.label_zh, self.label_en)


# -- schemes -----------------------------------------------------------------------------------

@cache
def default_scheme() -> dict[str, Any]:
    """The scheme shipped with the package (``data/grade_scheme.json``)."""
    text = resources.files("creditcase.core").joinpath("data", "grade_scheme.json").read_text("utf-8")
    return json.loads(text)


def validate_scheme(data: dict[str, Any]) -> dict[str, list[str]]:
    """Field errors of a scheme in the file shape (empty when it is valid)."""
    errors: dict[str, list[str]] = {}
    if not str(data.get("id") or "").strip():
        errors["id"] = ["required"]
    if not str(data.get("name_zh") or "").strip():
        errors["name_zh"] = ["required"]
    for key in ("base_score", "max_score"):
        if not isinstance(data.get(key), int) or isinstance(data.get(key), bool):
            errors[key] = ["an integer"]
    if not errors.get("base_score") and not errors.get("max_score") \
            and data["max_score"] < data["base_score"]:
        errors["max_score"] = ["must not be below base_score"]
    for table in ("deductions", "bonuses"):
        weights = data.get(table) or {}
        if not isinstance(weights, dict):
            errors[table] = ["an object of hit code -> points"]
            continue
        for code, points in weights.items():
            if not _WEIGHT_KEY.match(str(code)):
                errors[f"{table}.{code}"] = ["a key is RECORD:<kind>:<severity> (severity may be "
                                             "empty) or LIST:red / LIST:black"]
            elif not isinstance(points, int) or isinstance(points, bool) or points < 0:
                errors[f"{table}.{code}"] = ["points are a non-negative integer"]
    rows = data.get("grades") or []
    if not rows:
        errors["grades"] = ["at least one grade"]
    previous = None
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not str(row.get("grade") or "").strip() \
                or not str(row.get("label_zh") or "").strip():
            errors[f"grades.{i}"] = ["grade and label_zh are required"]
            continue
        minimum = row.get("min")
        if not isinstance(minimum, int) or isinstance(minimum, bool):
            errors[f"grades.{i}.min"] = ["an integer"]
            continue
        if previous is not None and minimum >= previous:
            errors[f"grades.{i}.min"] = ["thresholds must fall from the first grade to the last"]
        if row["grade"] in seen:
            errors[f"grades.{i}.grade"] = ["listed twice"]
        seen.add(row["grade"])
        previous = minimum
    return errors


def _scheme_document(data: dict[str, Any], created_by: str) -> GradeScheme:
    effective = data["effective_from"]
    if isinstance(effective, str):
        effective = dt.date.fromisoformat(effective)
    return GradeScheme(
        scheme_id=data["id"].strip(), name_zh=data["name_zh"].strip(), effective_from=effective,
        base_score=data["base_score"], max_score=data["max_score"],
        deductions=dict(data.get("deductions") or {}), bonuses=dict(data.get("bonuses") or {}),
        grades=[GradeRow(grade=r["grade"], min=r["min"], label_zh=r["label_zh"],
                         label_en=r.get("label_en", "")) for r in data["grades"]],
        created_at=utcnow(), created_by=created_by)


def ensure_shipped_scheme() -> None:
    """Store the shipped scheme unless a scheme with its id is stored already."""
    data = default_scheme()
    if GradeScheme.objects(scheme_id=data["id"]).only("id").first() is None:
        with contextlib.suppress(me.NotUniqueError):  # another process stored it first
            _scheme_document(data, "system").save()


def add_scheme(principal: Principal, data: dict[str, Any], *,
               today: dt.date | None = None) -> GradeScheme:
    """Store a new scheme version (credit office). It takes effect on its
    ``effective_from``, which may not be in the past: past grades stay reproducible."""
    if not principal.has("credit_office"):
        raise PermissionDenied("only the credit office manages grade schemes")
    errors = validate_scheme(data)
    today = today or local_today()
    effective = data.get("effective_from")
    if isinstance(effective, str):
        try:
            effective = dt.date.fromisoformat(effective)
        except ValueError:
            effective = None
    if not isinstance(effective, dt.date):
        errors["effective_from"] = ["a date (YYYY-MM-DD)"]
    elif effective < today:
        errors["effective_from"] = [f"must not be before today ({today.isoformat()})"]
    if errors:
        raise RuleViolation("the grade scheme is not valid", errors=errors)
    if GradeScheme.objects(scheme_id=data["id"].strip()).only("id").first() is not None:
        raise Conflict(f"grade scheme {data['id']} exists", errors={"id": ["already exists"]})
    scheme = _scheme_document({**data, "effective_from": effective}, principal.username)
    uow = UnitOfWork()
    uow.add(scheme)
    audit.record(uow, principal, "grade_scheme.added", scheme, scheme_id=scheme.scheme_id,
                 effective_from=scheme.effective_from.isoformat())
    uow.commit()
    return scheme


def schemes() -> list[GradeScheme]:
    return list(GradeScheme.objects.order_by("-effective_from", "-created_at"))


def current_scheme(on: dt.date | None = None) -> dict[str, Any]:
    """The scheme in force on ``on`` (today by default); the shipped one when none
    is stored yet or none has started."""
    on = on or local_today()
    doc = GradeScheme.objects(effective_from__lte=on).order_by("-effective_from",
                                                               "-created_at").first()
    return doc.as_dict() if doc is not None else default_scheme()


# -- computing ---------------------------------------------------------------------------------

def _weight(table: dict[str, int], code: str) -> int:
    """Most specific key wins: ``RECORD:penalty:serious`` before ``RECORD:penalty:``."""
    if code in table:
        return table[code]
    if code.startswith("RECORD:"):
        return table.get(code.rsplit(":", 1)[0] + ":", 0)
    return 0


def compute(hit_codes: Iterable[str], scheme: dict[str, Any] | None = None) -> Grade:
    """``hit_codes``: ``RECORD:<kind>:<severity>`` for records, ``LIST:<color>`` for list
    entries. Without ``scheme``, the scheme in force today is used. A score below
    every threshold gets the last (lowest) grade."""
    scheme = scheme or current_scheme()
    score = scheme["base_score"]
    for code in hit_codes:
        score -= _weight(scheme["deductions"], code)
        score += _weight(scheme["bonuses"], code)
    score = min(score, scheme["max_score"])
    rows = scheme["grades"]
    if not rows:
        raise ValueError(f"grade scheme {scheme['id']} has no grades")
    row = next((r for r in rows if score >= r["min"]), rows[-1])
    return Grade(scheme["id"], score, row["grade"], row["label_zh"], row.get("label_en", ""))


def subject_inputs(subject_code: str, on: dt.date) -> list[str]:
    """The hit codes a check on ``on`` would grade: records in force (active or
    disputed) and list entries in force, sorted."""
    from creditcase.core.lists import ListEntry
    from creditcase.core.records import CreditRecord

    codes = []
    for r in CreditRecord.objects(subject_code=subject_code,
                                  state__in=("active", "disputed")).only(
            "kind", "severity", "effective_until"):
        if r.effective_until and r.effective_until < on:
            continue
        codes.append(f"RECORD:{r.kind}:{r.severity or ''}")
    for e in ListEntry.objects(subject_code=subject_code, removed_at=None,
                               valid_until__gte=on).only("color", "listed_on"):
        if e.listed_on <= on:
            codes.append(f"LIST:{e.color}")
    return sorted(codes)


def inputs_hash(scheme_id: str, codes: list[str]) -> str:
    text = json.dumps({"scheme": scheme_id, "inputs": codes}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def recompute(subject_code: str, on: dt.date | None = None) -> GradeResult:
    """Grade the subject now and store the result (one atomic upsert)."""
    on = on or local_today()
    scheme = current_scheme(on)
    codes = subject_inputs(subject_code, on)
    grade = compute(codes, scheme)
    digest = inputs_hash(scheme["id"], codes)
    GradeResult.objects(subject_code=subject_code).update_one(
        upsert=True, set__scheme=grade.scheme, set__score=grade.score, set__grade=grade.grade,
        set__label_zh=grade.label_zh, set__label_en=grade.label_en, set__computed_at=utcnow(),
        set__computed_on=on, set__inputs=codes, set__inputs_hash=digest, inc__version=1)
    return GradeResult.objects.get(subject_code=subject_code)


def stored(subject_code: str) -> GradeResult | None:
    return GradeResult.objects(subject_code=subject_code).first()


def grade_for(subject_code: str, on: dt.date | None = None) -> GradeResult:
    """The subject's current grade: the stored one if its scheme and inputs are still
    those of ``on``, recomputed otherwise."""
    on = on or local_today()
    result = stored(subject_code)
    if result is not None:
        scheme = current_scheme(on)
        if result.scheme == scheme["id"] \
                and result.inputs_hash == inputs_hash(scheme["id"], subject_inputs(subject_code, on)):
            return result
    return recompute(subject_code, on)


def recompute_many(subject_codes: Iterable[str], on: dt.date | None = None) -> int:
    """Recompute the grades of several subjects (e.g. after a bulk push); returns how many."""
    codes = sorted(set(subject_codes))
    for code in codes:
        recompute(code, on=on)
    return len(codes)
