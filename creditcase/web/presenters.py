"""Plain dicts for responses whose content depends on the reader.

A case shows its full subject code only to users of the department that owns
it; anyone else (the credit office reads every department) sees it masked,
in the case, its checks and its evidence alike. The dicts built here are
dumped through the schemas of :mod:`creditcase.web.schemas`, which decide
the fields that leave the system.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from creditcase.core import ids
from creditcase.core.accounts import Principal
from creditcase.core.cases import Case
from creditcase.core.checks import CreditCheck
from creditcase.core.evidence import EvidenceBundle, verify_bundle
from creditcase.core.reports import CreditReport, report_validity
from creditcase.core.subjects import KINDS


def owns(principal: Principal, case: Case) -> bool:
    return principal.department == case.department


def subject_code_for(principal: Principal, case: Case) -> str:
    return case.subject_code if owns(principal, case) else ids.mask(case.subject_code)


def case_summary(case: Case, principal: Principal) -> dict[str, Any]:
    return {
        "id": str(case.pk), "domain": case.domain, "matter": case.matter,
        "matter_name": case.matter_name, "report_required": case.report_required,
        "department": case.department,
        "subject": {"code": subject_code_for(principal, case), "name": case.subject_name,
                    "kind": case.subject_kind, "kind_zh": KINDS.get(case.subject_kind, "")},
        "state": case.state, "handler": case.handler, "created_at": case.created_at,
        "updated_at": case.updated_at, "due_date": case.due_date, "priority": case.priority,
        "red_hits": case.red_hits, "black_hits": case.black_hits,
        "stale_reason": case.stale_reason, "review_flagged": bool(case.review_flags),
        "version": case.version,
    }


def check_view(check: CreditCheck, case: Case, principal: Principal) -> dict[str, Any]:
    result = dict(check.result or {})
    current = (case.state == "checked" and str(check.pk) == case.latest_check_id
               and check.request_id == case.check_request_id)
    receipt = dict(check.receipt or {})
    view = {
        "id": str(check.pk), "request_id": check.request_id, "requested_by": check.requested_by,
        "requested_at": check.requested_at, "checked_at": check.checked_at, "current": current,
        "result_hash": check.result_hash, "receipt": receipt,
    }
    for key in ("on", "complete", "channels", "hits", "measures", "skipped_measures", "reports",
                "has_valid_report", "grade", "recommendation", "notes", "engine", "incentives",
                "incentive_texts"):
        view[key] = result.get(key)
    if not owns(principal, case):
        view["hits"] = [_masked_hit(h) for h in result.get("hits") or []]
    return view


def _masked_hit(hit: dict[str, Any]) -> dict[str, Any]:
    detail = {k: (ids.mask(val) if k.endswith("subject_code") and isinstance(val, str) else val)
              for k, val in (hit.get("detail") or {}).items()}
    return {**hit, "detail": detail}


def case_detail(case: Case, principal: Principal, checks: list[CreditCheck]) -> dict[str, Any]:
    view = case_summary(case, principal)
    view.update({
        "data": dict(case.data or {}),
        "check_request_id": case.check_request_id,
        "latest_check_id": case.latest_check_id,
        "checks": [check_view(c, case, principal) for c in checks],
        "overrides": list(case.overrides),
        "decision": case.decision,
        "review_flags": list(case.review_flags),
        "withdrawn_reason": case.withdrawn_reason,
        "evidence": ({"seq": case.evidence_seq, "hash": case.evidence_hash}
                     if case.evidence_hash else None),
    })
    return view


def bundle_ref(bundle: EvidenceBundle) -> dict[str, Any]:
    return {"case_id": bundle.case_id, "seq": bundle.seq, "hash": bundle.hash,
            "prev_hash": bundle.prev_hash, "created_at": bundle.created_at}


def bundle_view(bundle: EvidenceBundle, case: Case, principal: Principal) -> dict[str, Any]:
    """The bundle with its parsed content; ``verified`` recomputes the hash. A reader
    outside the owning department sees the subject code masked in the content."""
    view = bundle_ref(bundle)
    view["verified"] = verify_bundle(bundle)
    try:
        content = bundle.document
    except ValueError:
        content = {}
    if not owns(principal, case):
        content = _mask_code_everywhere(content, case.subject_code)
    view["content"] = content
    return view


def _mask_code_everywhere(value: Any, code: str) -> Any:
    if isinstance(value, dict):
        return {k: _mask_code_everywhere(v, code) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_code_everywhere(v, code) for v in value]
    if isinstance(value, str) and code in value:
        return value.replace(code, ids.mask(code))
    return value


def report_view(report: CreditReport, on: dt.date) -> dict[str, Any]:
    validity = report_validity(report, on)
    return {
        "id": str(report.pk), "number": report.number, "subject_code": ids.mask(report.subject_code),
        "subject_name": report.subject_name, "agency_filing_no": report.agency_filing_no,
        "issue_date": report.issue_date, "valid_until": report.valid_until,
        "rating": report.rating, "sections": dict(report.sections or {}),
        "risk_warnings": list(report.risk_warnings or []), "void": report.void,
        "void_reason": report.void_reason,
        "validity": {"valid": validity.valid, "reasons": validity.reasons, "on": on},
        "created_at": report.created_at,
    }
