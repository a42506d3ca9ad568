"""Audit trail: one AuditEvent per state change, written in the same unit of
work as the change itself."""

from __future__ import annotations

import mongoengine as me

from creditcase.core.accounts import Principal
from creditcase.core.db import UnitOfWork, utcnow


class AuditEvent(me.Document):
    at = me.DateTimeField(required=True)
    actor = me.StringField(required=True)
    department = me.StringField(default="", help_text="the department whose object changed")
    action = me.StringField(required=True, help_text="e.g. case.applied, record.created")
    object_type = me.StringField(required=True)
    object_id = me.StringField(required=True)
    detail = me.DictField()

    meta = {"collection": "audit_events",
            "indexes": [("object_type", "object_id", "at"), ("department", "-at")]}


def record(uow: UnitOfWork, principal: Principal, action: str, obj: me.Document, *,
           department: str = "", **detail) -> AuditEvent:
    return uow.add(AuditEvent(at=utcnow(), actor=principal.username, department=department,
                              action=action, object_type=type(obj).__name__,
                              object_id=str(obj.pk), detail=detail))


def trail(object_type: str, object_id: str) -> list[AuditEvent]:
    return list(AuditEvent.objects(object_type=object_type, object_id=object_id).order_by("at"))
