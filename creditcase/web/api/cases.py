"""Cases: apply, read the queue and a case with its checks, (re)run the
credit check, approve an override, decide with measure feedback, withdraw,
archive, and read the evidence bundle.

Every transition is a call to :class:`creditcase.core.cases.WorkflowService`,
which holds the guards (逢办必查, feedback for every measure, reviewer
overrides of MANDATORY measures, version checks) and writes the audit trail.
A case of another department is 404, exactly as if it did not exist.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from creditcase.core.errors import NotFound
from creditcase.core.evidence import EvidenceBundle
from creditcase.web.auth import current_principal, login_required
from creditcase.web.context import workflow
from creditcase.web.presenters import bundle_ref, bundle_view, case_detail, case_summary
from creditcase.web.schemas import (
    ArchiveOut,
    CaseIn,
    CaseOut,
    CaseQuery,
    CaseSummaryOut,
    DecisionIn,
    EvidenceOut,
    OverrideIn,
    ReasonIn,
)

blp = Blueprint("cases", __name__, url_prefix="/api/v1/cases",
                description="办件：申请、信用核查、决定、归档 (cases: apply, check, decide, archive)")

DECIDERS = ("handler", "reviewer")


def _detail(case_id: str) -> dict[str, Any]:
    principal = current_principal()
    case = workflow().get(principal, case_id)
    return case_detail(case, principal, workflow().checks(case))


@blp.route("")
class CasesView(MethodView):
    @login_required("handler")
    @blp.doc(summary="受理申请 (apply)",
             description="Validates the subject's identity code (422 `subject.code` with the "
                         "rule), that the domain exists and is enabled for your department "
                         "(422 `domain`) and the application under the domain's schema (422 "
                         "`data.<field>`). The credit check is queued at once (逢办必查).")
    @blp.arguments(CaseIn)
    @blp.response(201, CaseOut)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        principal = current_principal()
        case = workflow().apply(principal, domain=body["domain"], matter=body["matter"],
                                subject=body["subject"], data=body["data"])
        location = url_for("cases.CaseView", case_id=str(case.pk))
        return case_detail(case, principal, []), 201, {"Location": location}

    @login_required()
    @blp.doc(summary="办件队列 (the case queue of your department)",
             description="Red-list (incentive) cases first, then oldest first. The credit office "
                         "sees every department. Pagination metadata is in `X-Pagination`.")
    @blp.arguments(CaseQuery, location="query")
    @blp.response(200, CaseSummaryOut(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any], pagination_parameters: Any) -> list[dict[str, Any]]:
        principal = current_principal()
        cases = workflow().queue(principal, state=query.get("state"), domain=query.get("domain"))
        pagination_parameters.item_count = cases.count()
        page = cases.skip(pagination_parameters.first_item).limit(pagination_parameters.page_size)
        return [case_summary(case, principal) for case in page]


@blp.route("/<string:case_id>")
class CaseView(MethodView):
    @login_required()
    @blp.doc(summary="办件详情：核查结果与决定 (a case with its checks and decision)",
             description="Each check lists the channels queried with their data-as-of time, the "
                         "hits, the measures raised (binding MANDATORY or DISCRETIONARY), copies "
                         "of credit reports with their validity, the grade and the "
                         "recommendation, and its receipt. `current` marks the check a decision "
                         "would use.")
    @blp.response(200, CaseOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, case_id: str) -> dict[str, Any]:
        return _detail(case_id)


@blp.route("/<string:case_id>/checks")
class ChecksView(MethodView):
    @login_required(*DECIDERS)
    @blp.doc(summary="重新核查 (run the credit check again)",
             description="Queues a new check; the case is `checking` until it is done.")
    @blp.response(202, CaseOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, case_id: str) -> dict[str, Any]:
        workflow().request_check(current_principal(), case_id)
        return _detail(case_id)


@blp.route("/<string:case_id>/override")
class OverrideView(MethodView):
    @login_required("reviewer")
    @blp.doc(summary="审批不执行强制措施 (approve leaving MANDATORY measures unapplied)",
             description="A reviewer (department lead) names the MANDATORY punishment measures "
                         "of the current check that may be left unapplied, with a reason. The "
                         "reviewer cannot also decide the case.")
    @blp.arguments(OverrideIn)
    @blp.response(200, CaseOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any], case_id: str) -> dict[str, Any]:
        workflow().approve_override(current_principal(), case_id, measures=body["measures"],
                                    reason=body["reason"])
        return _detail(case_id)


@blp.route("/<string:case_id>/decision")
class DecisionView(MethodView):
    @login_required(*DECIDERS)
    @blp.doc(summary="作出决定并反馈措施执行情况 (decide, with feedback on every measure)",
             description="409 when there is no valid check (none yet, stale, too old, a channel "
                         "down) or the case is already decided, or `expected_version` is "
                         "behind. 422 when a measure lacks feedback, `applied: false` lacks a "
                         "reason, a MANDATORY punishment is not applied without a reviewer's "
                         "override, or the outcome contradicts an applied measure.")
    @blp.arguments(DecisionIn)
    @blp.response(200, CaseOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any], case_id: str) -> dict[str, Any]:
        workflow().decide(current_principal(), case_id, outcome=body["outcome"],
                          feedback=body["feedback"], conditions=body["conditions"],
                          reasons=body["reasons"], expected_version=body["expected_version"])
        return _detail(case_id)


@blp.route("/<string:case_id>/withdraw")
class WithdrawView(MethodView):
    @login_required(*DECIDERS)
    @blp.doc(summary="撤回申请 (withdraw an open case, with a reason)")
    @blp.arguments(ReasonIn)
    @blp.response(200, CaseOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], case_id: str) -> dict[str, Any]:
        workflow().withdraw(current_principal(), case_id, body["reason"])
        return _detail(case_id)


@blp.route("/<string:case_id>/archive")
class ArchiveView(MethodView):
    @login_required(*DECIDERS)
    @blp.doc(summary="归档：生成证据包 (archive: build the evidence bundle)",
             description="Binds the application, every check with its receipt, the credit report "
                         "copies, the decision and the audit trail into canonical JSON chained "
                         "to the previous bundle by SHA-256.")
    @blp.response(201, ArchiveOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, case_id: str) -> dict[str, Any]:
        return bundle_ref(workflow().archive(current_principal(), case_id))


@blp.route("/<string:case_id>/evidence")
class EvidenceView(MethodView):
    @login_required()
    @blp.doc(summary="证据包及校验 (the evidence bundle, its hash and whether it verifies)")
    @blp.response(200, EvidenceOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, case_id: str) -> dict[str, Any]:
        principal = current_principal()
        case = workflow().get(principal, case_id)
        bundle = EvidenceBundle.objects(case_id=str(case.pk)).first()
        if bundle is None:
            raise NotFound("the case is not archived yet: no evidence bundle")
        return bundle_view(bundle, case, principal)
