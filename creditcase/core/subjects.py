"""Credit subjects: legal persons (USCC), individual businesses (USCC, usually
starting 92) and natural persons (citizen ID number). The identity code is
validated and normalised before anything is stored."""

from __future__ import annotations

import mongoengine as me

from creditcase.core import ids
from creditcase.core.db import utcnow
from creditcase.core.errors import RuleViolation

LEGAL = "LEGAL"
NATURAL = "NATURAL"
INDIVIDUAL_BUSINESS = "INDIVIDUAL_BUSINESS"
KINDS = {LEGAL: "法人及非法人组织", NATURAL: "自然人", INDIVIDUAL_BUSINESS: "个体工商户"}


class Subject(me.Document):
    code = me.StringField(required=True, unique=True,
                          help_text="USCC for organisations, ID number for natural persons")
    kind = me.StringField(required=True, choices=tuple(KINDS))
    name = me.StringField(required=True, max_length=200)
    legal_representative = me.StringField(default="")
    address = me.StringField(default="")
    created_at = me.DateTimeField(default=utcnow)
    updated_at = me.DateTimeField(default=utcnow)
    version = me.IntField(default=0)

    meta = {"collection": "subjects", "indexes": ["name"]}

    @property
    def masked_code(self) -> str:
        return ids.mask(self.code)


def identify(code: str, kind: str | None = None, *, field: str = "code") -> tuple[str, str]:
    """Validate ``code`` and return ``(kind, normalised code)``.

    An ID number means a natural person; a USCC means a legal person, or an
    individual business when ``kind`` says so or the code starts with 92.
    """
    try:
        code_kind, normalised = ids.validate(code)
    except ids.IdentityCodeError as exc:
        raise RuleViolation(f"invalid identity code: {exc.message}",
                            errors={field: [f"{exc.rule}: {exc.message}"]})
    if code_kind == "id_number":
        if kind not in (None, NATURAL):
            raise RuleViolation("an ID number identifies a natural person",
                                errors={"kind": [f"{kind} needs a USCC, not an ID number"]})
        return NATURAL, normalised
    if kind == NATURAL:
        raise RuleViolation("a natural person is identified by an ID number",
                            errors={"kind": ["NATURAL needs an ID number, not a USCC"]})
    if kind is None:
        kind = INDIVIDUAL_BUSINESS if normalised.startswith("92") else LEGAL
    return kind, normalised


def upsert_subject(code: str, name: str, kind: str | None = None, **extra: str) -> Subject:
    """Register a subject or update its name and details; returns the stored subject."""
    kind, code = identify(code, kind)
    now = utcnow()
    fields = {k: v for k, v in extra.items() if v is not None}
    Subject._get_collection().update_one(
        {"code": code},
        {"$set": {"kind": kind, "name": name, "updated_at": now, **fields},
         "$setOnInsert": {"created_at": now, "version": 0}},
        upsert=True)
    return Subject.objects.get(code=code)


def get_subject(code: str) -> Subject | None:
    try:
        _, normalised = identify(code)
    except RuleViolation:
        return None
    return Subject.objects(code=normalised).first()
