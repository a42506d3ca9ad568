"""The Domain base class that every key-area plugin subclasses.

A domain declares which subjects it accepts, its application schema, the
channels and evidence it needs, how a check maps to a recommendation, which
measures bind, and extra decision guards. Defaults follow the common rule;
plugins override what their policy text says differently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import marshmallow as ma

from creditcase.core.subjects import INDIVIDUAL_BUSINESS, LEGAL, NATURAL

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CheckResult, CreditCheck, MeasureHit

RECOMMENDATIONS = ("approve", "approve_with_conditions", "review", "reject")


@dataclass
class Recommendation:
    outcome: str
    reasons: list[str] = field(default_factory=list)


class Domain:
    """Base class of a key-area domain. Subclass and set the class attributes."""

    code: ClassVar[str]
    name_zh: ClassVar[str]
    name_en: ClassVar[str]
    #: policy clause the domain implements, e.g. "舞信用办〔2020〕1号 三（五）1"
    policy_basis: ClassVar[str] = ""
    subject_kinds: ClassVar[tuple[str, ...]] = (LEGAL, INDIVIDUAL_BUSINESS)
    application_schema: ClassVar[type[ma.Schema]]
    #: channel names the check must query; all must answer for the check to count
    required_channels: ClassVar[tuple[str, ...]] = ("records", "lists", "reports")
    #: a valid third-party credit report is required evidence
    requires_report: ClassVar[bool] = False
    #: how old a check may be when the decision is taken
    max_check_age: ClassVar[dt.timedelta] = dt.timedelta(days=30)
    #: version of this domain's rules, stamped on every decision
    rule_version: ClassVar[str] = "1"
    #: measure code -> binding this domain's policy fixes, whatever the catalogue says
    pinned_bindings: ClassVar[dict[str, str]] = {}

    def subject_errors(self, kind: str, code: str) -> dict[str, list[str]]:
        """Field errors when this domain refuses the subject beyond its kind (e.g. only
        public institutions, USCC starting 12); empty to accept."""
        return {}

    def related_subjects(self, data: dict) -> list[str]:
        """Codes of other parties the check covers (from the loaded application); a
        change to their credit makes the case stale as well."""
        return []

    def binding(self, measure_code: str, default: str) -> str:
        """Binding of a measure in this domain: pinned by the domain, else the catalogue's."""
        return self.pinned_bindings.get(measure_code, default)

    def recommend(self, result: CheckResult) -> Recommendation:
        """Map a check result to a recommendation for the handler."""
        reasons = []
        rejecting = [m for m in result.measures
                     if m.kind == "PUNISH" and m.effect == "reject" and m.binding == "MANDATORY"]
        if rejecting:
            return Recommendation("reject", [f"{m.code}: {m.text_zh}" for m in rejecting])
        if self.requires_report and not result.has_valid_report:
            return Recommendation("reject", ["no valid third-party credit report"])
        if any(m.kind == "PUNISH" for m in result.measures):
            reasons = [f"{m.code}: {m.text_zh}" for m in result.measures if m.kind == "PUNISH"]
            return Recommendation("review", reasons)
        if any(h.adverse for h in result.hits):
            return Recommendation("review", [h.title for h in result.hits if h.adverse])
        return Recommendation("approve", reasons)

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        """Extra guards of this domain; return reasons to refuse."""
        reasons = []
        if self.requires_report and decision.outcome != "rejected" and not check.has_valid_report:
            reasons.append(f"{self.code}: approval needs a valid third-party credit report")
        return reasons

    def incentives(self, result: CheckResult) -> Sequence[MeasureHit]:
        return [m for m in result.measures if m.kind == "REWARD"]

    def describe(self) -> dict:
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en,
                "policy_basis": self.policy_basis, "subject_kinds": list(self.subject_kinds),
                "required_channels": list(self.required_channels),
                "requires_report": self.requires_report,
                "max_check_age_days": self.max_check_age.days, "rule_version": self.rule_version}


__all__ = ["INDIVIDUAL_BUSINESS", "LEGAL", "NATURAL", "Domain", "Recommendation"]
