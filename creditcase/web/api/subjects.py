"""Subjects: register or update a legal person, individual business or natural
person (identity code validated), and read one back. Natural persons' ID
numbers are masked in every response."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from creditcase.core.errors import NotFound
from creditcase.core.subjects import Subject, get_subject, upsert_subject
from creditcase.web.auth import current_principal, login_required
from creditcase.web.schemas import SubjectOut, SubjectRegisterIn

blp = Blueprint("subjects", __name__, url_prefix="/api/v1/subjects",
                description="信用主体 (credit subjects: organisations and persons)")


@blp.route("")
class SubjectsView(MethodView):
    @login_required("handler", "data_provider", "credit_office")
    @blp.doc(summary="登记或更新主体 (register or update a subject)",
             description="The code is a 统一社会信用代码 (USCC, GB 32100) or a 公民身份号码 "
                         "(GB 11643). An invalid code gives 422 with the field `code` and the "
                         "rule it breaks (length, charset, authority, region, check_character, "
                         "birth_date). 201 when the subject is new, 200 when it was updated.")
    @blp.arguments(SubjectRegisterIn)
    @blp.response(200, SubjectOut)
    @blp.alt_response(201, schema=SubjectOut, description="registered", success=True)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, values: dict[str, Any]) -> tuple[Subject, int]:
        extra = {k: values[k] for k in ("legal_representative", "address") if k in values}
        subject, created = upsert_subject(current_principal(), values["code"],
                                          values["name"].strip(), values.get("kind"), **extra)
        return subject, 201 if created else 200


@blp.route("/<string:code>")
class SubjectView(MethodView):
    @login_required()
    @blp.doc(summary="读取主体 (read a subject by its code)")
    @blp.response(200, SubjectOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, code: str) -> Subject:
        subject = get_subject(code)
        if subject is None:
            raise NotFound("no subject with this code", errors={"code": ["unknown subject"]})
        return subject
