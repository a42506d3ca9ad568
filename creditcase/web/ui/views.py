"""Marshmallow schemas for the documents the pages show that the API schemas
(:mod:`creditcase.web.schemas`) do not cover. Pages never hand a document to a
template: they dump it through one of these or an API schema first, which
decides the fields that reach the page (and masks ID numbers)."""

from __future__ import annotations

import marshmallow as ma

from creditcase.core import ids
from creditcase.web.schemas import RecordOut, mask_text


class AuditOut(ma.Schema):
    at = ma.fields.DateTime()
    actor = ma.fields.String()
    action = ma.fields.String()
    detail = ma.fields.Dict()


class DepartmentOut(ma.Schema):
    code = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    is_credit_office = ma.fields.Boolean()


class RecordPageOut(RecordOut):
    """A credit record on the staff pages: the API's fields (codes and personal data
    masked) and the publicity period."""

    publicity_min_until = ma.fields.Date(allow_none=True)
    publicity_until = ma.fields.Date(allow_none=True)
    published_late = ma.fields.Boolean(allow_none=True)


class RevisionOut(ma.Schema):
    """A record's earlier revision; the snapshot's codes and free text masked."""

    revision = ma.fields.Integer()
    content_hash = ma.fields.String()
    replaced_at = ma.fields.DateTime()
    snapshot = ma.fields.Function(lambda r: mask_snapshot(dict(r.snapshot or {})))


def mask_snapshot(snapshot: dict) -> dict:
    from creditcase.web.schemas import mask_fields

    out = dict(snapshot)
    if isinstance(out.get("subject_code"), str):
        out["subject_code"] = ids.mask(out["subject_code"])
    for key in ("title", "content"):
        if isinstance(out.get(key), str):
            out[key] = mask_text(out[key])
    if isinstance(out.get("fields"), dict):
        out["fields"] = mask_fields(out["fields"])
    return out


class BundleOut(ma.Schema):
    case_id = ma.fields.String()
    seq = ma.fields.Integer()
    hash = ma.fields.String()
    prev_hash = ma.fields.String()
    created_at = ma.fields.DateTime()
    verified = ma.fields.Boolean()
    content = ma.fields.Dict()


__all__ = ["AuditOut", "BundleOut", "DepartmentOut", "RecordPageOut", "RevisionOut", "mask_snapshot"]
