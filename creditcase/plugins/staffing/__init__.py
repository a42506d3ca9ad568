"""事业机构编制管理 (staffing of public institutions), the domain of the
staffing authority (机构编制委员会办公室).

Policy: 舞信用办〔2020〕1号 三（五）11 — when deciding on the staffing of
public institutions, the staffing authority uses the institution's credit
record or credit report as one reference.

* Subjects are 事业单位 only: a legal person whose USCC starts with ``12``
  (registration authority 1 = 机构编制, organisation type 2 = 事业单位,
  GB 32100). Every other code (an enterprise's ``91``, an organ's ``11``, a
  social organisation's ``5x``) is refused with an error on ``subject.code``:
  :meth:`StaffingDomain.subject_errors` gives it, the recommendation for such
  a case is ``reject``, and any outcome other than a rejection is refused.
* Measures bind as the catalogue says; ``ZD-SC`` makes a black-listed
  institution a case for close review.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from creditcase import hookimpl
from creditcase.core import ids
from creditcase.core.domains import LEGAL, Domain, Recommendation
from creditcase.plugins.staffing.schema import StaffingApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CheckResult, CreditCheck

#: GB 32100 positions 1-2 of a public institution's USCC
PUBLIC_INSTITUTION_PREFIX = "12"


def code_kind(code: str) -> str:
    """The GB 32100 table 1.3 meaning of a USCC's first two characters."""
    authority = ids.USCC_AUTHORITIES.get(code[:1])
    if authority is None:
        return f"{code[:2]}（不是统一社会信用代码）"
    return f"{code[:2]}（{authority.name}：{authority.org_types.get(code[1:2], '未列明的机构类别')}）"


def subject_error(kind: str, code: str) -> str | None:
    """Why the subject cannot be a party to a staffing matter, or ``None``."""
    if kind == LEGAL and code.startswith(PUBLIC_INSTITUTION_PREFIX):
        return None
    return ("事业机构编制事项的主体须为事业单位：统一社会信用代码以 12 开头（机构编制部门登记的事业单位），"
            f"该代码为 {code_kind(code)} (the subject must be a public institution, USCC 12…)")


class StaffingDomain(Domain):
    code = "staffing"
    name_zh = "事业机构编制管理"
    name_en = "Staffing of public institutions"
    policy_basis = "舞信用办〔2020〕1号 三（五）11"
    subject_kinds = (LEGAL,)
    application_schema = StaffingApplication
    required_channels = ("records", "lists", "reports")
    requires_report = False
    max_check_age = dt.timedelta(days=30)
    rule_version = "2026.1"

    def subject_errors(self, kind: str, code: str) -> dict[str, list[str]]:
        """Field errors for a subject this domain does not accept (empty if accepted)."""
        error = subject_error(kind, code)
        return {"subject.code": [error]} if error else {}

    def recommend(self, result: CheckResult) -> Recommendation:
        error = subject_error(result.subject.kind, result.subject.code)
        if error:
            return Recommendation("reject", [error])
        return super().recommend(result)

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        error = subject_error(case.subject_kind, case.subject_code)
        if error and decision.outcome != "rejected":
            reasons.append(error)
        return reasons


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [StaffingDomain()]


__all__ = ["PUBLIC_INSTITUTION_PREFIX", "StaffingApplication", "StaffingDomain", "code_kind",
           "subject_error"]
