"""Evidence bundles: the tamper-evident record kept with each archived case.

A bundle holds the case, the application, every check with its receipt, copies
of the credit reports the checks saw, the decision with its feedback and the
case's audit trail. It is stored as canonical JSON; its hash is the SHA-256 of
``{"seq", "prev_hash", "content"}``, so each bundle is chained to the one
before. :func:`verify_chain` recomputes everything and names each bad bundle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mongoengine as me

from creditcase.core import audit
from creditcase.core.canonical import canonical_json, plain, sha256_hex
from creditcase.core.db import UnitOfWork, utcnow

if TYPE_CHECKING:
    from creditcase.core.cases import Case
    from creditcase.core.checks import CreditCheck

GENESIS = "0" * 64
FORMAT = "creditcase-evidence/1"


class EvidenceBundle(me.Document):
    seq = me.IntField(required=True, unique=True, min_value=1)
    case_id = me.StringField(required=True, unique=True)
    department = me.StringField(required=True)
    created_at = me.DateTimeField(required=True)
    prev_hash = me.StringField(required=True)
    content = me.StringField(required=True, help_text="canonical JSON of the bundle content")
    hash = me.StringField(required=True)

    meta = {"collection": "evidence_bundles"}

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.content)


class ChainHead(me.Document):
    """The newest link of the chain, so that archiving reads one document by key
    instead of searching the bundles; updated in the archive's own transaction
    with a version guard, which also serialises concurrent archives."""

    key = me.StringField(primary_key=True, default="evidence")
    seq = me.IntField(required=True, min_value=0)
    hash = me.StringField(required=True)
    version = me.IntField(default=0)

    meta = {"collection": "evidence_chain_head"}


def chain_hash(seq: int, prev_hash: str, content: str) -> str:
    return sha256_hex(canonical_json({"seq": seq, "prev_hash": prev_hash,
                                      "content": json.loads(content)}))


def _case_view(case: Case) -> dict[str, Any]:
    son = case.to_mongo().to_dict()
    son["id"] = str(son.pop("_id"))
    for key in ("decision", "overrides", "review_flags", "version"):
        son.pop(key, None)
    return son


def _head() -> tuple[ChainHead, bool]:
    """The chain head and whether it is new (first archive, or a chain stored before
    heads were kept: adopted once from its last bundle)."""
    head = ChainHead.objects(pk="evidence").first()
    if head is not None:
        return head, False
    last = EvidenceBundle.objects.order_by("-seq").only("seq", "hash").first()
    return ChainHead(key="evidence", seq=last.seq if last else 0,
                     hash=last.hash if last else GENESIS), True


def build_bundle(case: Case, checks: list[CreditCheck], archive_event: audit.AuditEvent,
                 uow: UnitOfWork) -> EvidenceBundle:
    """The next bundle in the chain for ``case``; the bundle and the moved chain head
    are added to ``uow`` (a concurrent archive makes its commit fail: chain again)."""
    head, new_head = _head()
    seq, prev = head.seq + 1, head.hash
    trail = audit.trail("Case", str(case.pk))
    reports: dict[str, dict] = {}
    for check in checks:
        for copy in check.result.get("reports", []):
            reports[copy["report_id"]] = copy
    content = plain({
        "format": FORMAT,
        "case": _case_view(case),
        "application": case.data,
        "checks": [{"id": str(c.pk), "receipt": c.receipt, "result": c.result,
                    "result_hash": c.result_hash} for c in checks],
        "reports": [reports[k] for k in sorted(reports)],
        "overrides": [o.to_mongo().to_dict() for o in case.overrides],
        "decision": case.decision.to_mongo().to_dict() if case.decision else None,
        "audit": [{"at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail}
                  for e in [*trail, archive_event]],
    })
    text = canonical_json(content)
    bundle = EvidenceBundle(seq=seq, case_id=str(case.pk), department=case.department,
                            created_at=utcnow(), prev_hash=prev, content=text,
                            hash=chain_hash(seq, prev, text))
    uow.add(bundle)
    head.seq, head.hash = bundle.seq, bundle.hash
    uow.add(head) if new_head else uow.save(head)
    return bundle


@dataclass
class BadBundle:
    seq: int
    case_id: str
    problem: str


def verify_chain() -> tuple[int, list[BadBundle]]:
    """Recompute every bundle. Returns ``(bundles checked, problems)``."""
    problems: list[BadBundle] = []
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for bundle in EvidenceBundle.objects.order_by("seq"):
        count += 1
        if bundle.seq != expected_seq:
            problems.append(BadBundle(bundle.seq, bundle.case_id,
                                      f"sequence gap: expected {expected_seq}"))
        if bundle.prev_hash != expected_prev:
            problems.append(BadBundle(bundle.seq, bundle.case_id,
                                      "previous hash does not match the bundle before it"))
        try:
            recomputed = chain_hash(bundle.seq, bundle.prev_hash, bundle.content)
            problem = None if recomputed == bundle.hash else "content does not match its hash"
        except ValueError:
            problem = "content is not valid JSON"
        if problem:
            problems.append(BadBundle(bundle.seq, bundle.case_id, problem))
        expected_prev, expected_seq = bundle.hash, bundle.seq + 1
    head = ChainHead.objects(pk="evidence").first()
    if head is not None and (head.seq, head.hash) != (expected_seq - 1, expected_prev):
        problems.append(BadBundle(head.seq, "", f"the chain head names bundle {head.seq}, but the "
                                  f"last stored bundle is {expected_seq - 1}: bundles are missing"))
    return count, problems


def verify_bundle(bundle: EvidenceBundle) -> bool:
    try:
        return chain_hash(bundle.seq, bundle.prev_hash, bundle.content) == bundle.hash
    except ValueError:
        return False
