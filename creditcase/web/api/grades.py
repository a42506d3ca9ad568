"""Credit grades (公共信用综合评价) over HTTP: the scheme versions, adding a new
version (credit office, effective from a date not in the past), and a
subject's current grade, recomputed when its stored inputs or scheme are no
longer current (:func:`creditcase.core.grades.grade_for`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate as v

from creditcase.core import grades as core
from creditcase.core import ids
from creditcase.core.subjects import identify
from creditcase.web.auth import current_principal, login_required

blp = Blueprint("grades", __name__, url_prefix="/api/v1",
                description="公共信用综合评价 (credit grade schemes and subjects' grades)")


class GradeRowSchema(ma.Schema):
    grade = ma.fields.String(required=True, validate=v.Length(min=1, max=8))
    min = ma.fields.Integer(required=True, metadata={"description": "lowest score of the grade"})
    label_zh = ma.fields.String(required=True, validate=v.Length(min=1, max=50))
    label_en = ma.fields.String(load_default="", validate=v.Length(max=50))


class GradeSchemeIn(ma.Schema):
    id = ma.fields.String(required=True, validate=v.Length(min=1, max=64),
                          metadata={"description": "e.g. WG-2027-1"})
    name_zh = ma.fields.String(required=True, validate=v.Length(min=1, max=200))
    effective_from = ma.fields.Date(required=True, metadata={"description": "not before today"})
    base_score = ma.fields.Integer(required=True)
    max_score = ma.fields.Integer(required=True)
    deductions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                                load_default=dict, metadata={
                                    "description": "RECORD:<kind>:<severity> or LIST:black -> points"})
    bonuses = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                             load_default=dict, metadata={
                                 "description": "RECORD:award: or LIST:red -> points"})
    grades = ma.fields.List(ma.fields.Nested(GradeRowSchema), required=True,
                            validate=v.Length(min=1, max=20), metadata={
                                "description": "highest threshold first; a score below every "
                                               "threshold gets the last grade"})


class GradeSchemeOut(ma.Schema):
    id = ma.fields.String(attribute="scheme_id")
    name_zh = ma.fields.String()
    effective_from = ma.fields.Date()
    base_score = ma.fields.Integer()
    max_score = ma.fields.Integer()
    deductions = ma.fields.Dict()
    bonuses = ma.fields.Dict()
    grades = ma.fields.List(ma.fields.Nested(GradeRowSchema))
    created_at = ma.fields.DateTime(allow_none=True)
    created_by = ma.fields.String()


class GradeResultOut(ma.Schema):
    subject_code = ma.fields.Function(lambda r: ids.mask(r.subject_code),
                                      metadata={"type": "string"})
    scheme = ma.fields.String()
    score = ma.fields.Integer()
    grade = ma.fields.String()
    label_zh = ma.fields.String()
    label_en = ma.fields.String()
    computed_at = ma.fields.DateTime()
    computed_on = ma.fields.Date()
    inputs = ma.fields.List(ma.fields.String(), metadata={
        "description": "the hit codes graded (records and list entries in force)"})
    inputs_hash = ma.fields.String()


@blp.route("/grade-schemes")
class SchemesView(MethodView):
    @login_required()
    @blp.doc(summary="评价方案版本 (grade scheme versions, newest first)")
    @blp.response(200, GradeSchemeOut(many=True))
    def get(self) -> list[core.GradeScheme]:
        return core.schemes()

    @login_required("credit_office")
    @blp.doc(summary="新增评价方案版本 (add a scheme version)",
             description="Takes effect on `effective_from` (not in the past, so earlier grades "
                         "stay reproducible); from then on checks and stored grades use it.")
    @blp.arguments(GradeSchemeIn)
    @blp.response(201, GradeSchemeOut)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any]) -> core.GradeScheme:
        return core.add_scheme(current_principal(), body)


@blp.route("/grade-schemes/current")
class CurrentSchemeView(MethodView):
    @login_required()
    @blp.doc(summary="当前评价方案 (the scheme in force today)")
    @blp.response(200, GradeSchemeOut)
    def get(self) -> dict[str, Any]:
        scheme = core.current_scheme()
        return {**scheme, "scheme_id": scheme["id"],
                "effective_from": dt.date.fromisoformat(scheme["effective_from"])}


@blp.route("/subjects/<string:code>/grade")
class SubjectGradeView(MethodView):
    @login_required()
    @blp.doc(summary="主体的信用等级 (a subject's current grade)",
             description="Recomputed when the subject's records or list entries, or the scheme "
                         "in force, changed since it was stored.")
    @blp.response(200, GradeResultOut)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, code: str) -> core.GradeResult:
        _, normalised = identify(code, field="code")
        return core.grade_for(normalised)
