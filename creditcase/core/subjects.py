"""Credit subjects: legal persons (USCC), individual businesses (USCC, usually
starting 92) and natural persons (citizen ID number). The identity code is
validated and normalised before anything is stored."""

from __future__ import annotations

import mongoengine as me

from creditcase.core import audit, ids
from creditcase.core.accounts import Principal
from creditcase.core.db import UnitOfWork, utcnow
from creditcase.core.errors import Conflict, RuleViolation

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


def upsert_subject(principal: Principal, code: str, name: str, kind: str | None = None,
                   **extra: str) -> tuple[Subject, bool]:
    """Register a subject or update its name and details, with an audit event when
    anything changed. Returns ``(subject, created)``."""
    kind, code = identify(code, kind)
    fields = {"kind": kind, "name": name, **{k: v for k, v in extra.items() if v is not None}}
    for _ in range(3):
        subject = Subject.objects(code=code).first()
        created = subject is None
        if created:
            subject = Subject(code=code, **fields)
        elif all(getattr(subject, k) == v for k, v in fields.items()):
            return subject, False
        else:
            for key, value in fields.items():
                setattr(subject, key, value)
            subject.updated_at = utcnow()
        uow = UnitOfWork()
        uow.add(subject) if created else uow.save(subject)
        audit.record(uow, principal, "subject.registered" if created else "subject.updated",
                     subject, kind=kind)
        try:
            uow.commit()
        except Conflict:  # registered or changed concurrently: read it again
            continue
        return subject, created
    raise Conflict(f"subject {code} is being changed concurrently; retry")


def get_subject(code: str) -> Subject | None:
    try:
        _, normalised = identify(code)
    except RuleViolation:
        return None
    return Subject.objects(code=normalised).first()
