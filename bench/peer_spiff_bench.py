"""creditcase against SpiffWorkflow running the same four-step process.

The peer is what a Python team would otherwise pick: SpiffWorkflow (PyPI)
executing a BPMN model of the same process: a script task *apply* (the
subject's identity code and the application validated exactly as creditcase
validates them), a service task *check* (the creditcase check engine,
:func:`creditcase.core.checks.run_check`, on the same records, lists and
reports), an exclusive gateway on the check's recommendation leading to the
decision, and a script task *archive* (the canonical JSON and SHA-256 of
application, check and decision). After each of the four steps the
workflow's state is serialised with Spiff's own ``BpmnWorkflowSerializer``
and written to the same database server (collection ``spiff_workflows``).

creditcase runs the same cases in the same layout: one process, one thread,
apply -> check (performed in-process, the request taken from the outbox) ->
decide (feedback on every measure) -> archive, every step a guarded
transaction with its audit event and outbox entries.

Target: creditcase cases/s >= 2 x SpiffWorkflow cases/s.

    python -m bench.peer_spiff_bench [--cases 200]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

NAME = "peer_spiff"
TARGET_RATIO = 2.0
DB_NAME = "bench_peer"
MATTER = "ZFCG-001 政府采购供应商资格审查"
#: the four steps after which the Spiff workflow state is stored
STEPS = ("apply", "check", "decide", "archive")

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="creditcase-peer" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="credit_case" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="apply"/>
    <bpmn:scriptTask id="apply" name="受理申请">
      <bpmn:incoming>f_start</bpmn:incoming><bpmn:outgoing>f_apply</bpmn:outgoing>
      <bpmn:script>case = apply_case(subject, domain, application)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f_apply" sourceRef="apply" targetRef="check"/>
    <bpmn:serviceTask id="check" name="信用核查">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="credit_check" resultVariable="check">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="case" type="any" value="case"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f_apply</bpmn:incoming><bpmn:outgoing>f_check</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f_check" sourceRef="check" targetRef="gateway"/>
    <bpmn:exclusiveGateway id="gateway" name="决定" default="f_approve">
      <bpmn:incoming>f_check</bpmn:incoming>
      <bpmn:outgoing>f_approve</bpmn:outgoing><bpmn:outgoing>f_reject</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f_reject" sourceRef="gateway" targetRef="reject">
      <bpmn:conditionExpression>rejecting(check)</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_approve" sourceRef="gateway" targetRef="approve"/>
    <bpmn:scriptTask id="approve" name="准予">
      <bpmn:incoming>f_approve</bpmn:incoming><bpmn:outgoing>f_approved</bpmn:outgoing>
      <bpmn:script>decision = decide(check, "approved")</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:scriptTask id="reject" name="不予准予">
      <bpmn:incoming>f_reject</bpmn:incoming><bpmn:outgoing>f_rejected</bpmn:outgoing>
      <bpmn:script>decision = decide(check, "rejected")</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f_approved" sourceRef="approve" targetRef="archive"/>
    <bpmn:sequenceFlow id="f_rejected" sourceRef="reject" targetRef="archive"/>
    <bpmn:scriptTask id="archive" name="归档">
      <bpmn:incoming>f_approved</bpmn:incoming><bpmn:incoming>f_rejected</bpmn:incoming>
      <bpmn:outgoing>f_archive</bpmn:outgoing>
      <bpmn:script>evidence_hash = archive(case, check, decision)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f_archive" sourceRef="archive" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f_archive</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


# -- the peer --------------------------------------------------------------------------------------

class SpiffPeer:
    """SpiffWorkflow with the creditcase validation and check engine as its scripts
    and service."""

    def __init__(self, host: Any, department: str, handler: str, collection: Any):
        from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.spiff.parser import SpiffBpmnParser
        from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG

        self.host, self.department, self.handler = host, department, handler
        self.collection = collection
        parser = SpiffBpmnParser()
        path = harness.RESULTS / "peer_spiff.bpmn"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BPMN, encoding="utf-8")
        parser.add_bpmn_file(str(path))
        self.spec = parser.get_spec("credit_case")
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
        peer = self

        class Environment(TaskDataEnvironment):
            def call_service(self, context: dict, operation_name: str = "",
                             operation_params: dict | None = None, **kwargs: Any) -> str:
                if operation_name != "credit_check":
                    raise LookupError(f"no service {operation_name}")
                return peer.credit_check((operation_params or {})["case"]["value"])

        globals_ = {"apply_case": self.apply_case, "decide": self.decide, "archive": self.archive,
                    "rejecting": self.rejecting}
        self.engine = PythonScriptEngine(environment=Environment(globals_))

    # the scripts and the service ------------------------------------------------------------
    def apply_case(self, subject: dict, domain: str, application: dict) -> dict:
        from creditcase.core.cases import _json_ready
        from creditcase.core.subjects import identify

        plugin = self.host.domain(domain)
        kind, code = identify(subject["code"], subject.get("kind"), field="subject.code")
        if kind not in plugin.subject_kinds:
            raise ValueError(f"{domain} does not accept {kind} subjects")
        loaded = plugin.application_schema().load(application)
        return {"id": uuid.uuid4().hex[:24], "domain": domain, "department": self.department,
                "subject_code": code, "subject_name": subject["name"], "subject_kind": kind,
                "data": _json_ready(plugin.application_schema().dump(loaded)), "matter": MATTER}

    def credit_check(self, case: dict) -> str:
        from bson import ObjectId

        from creditcase.core import checks
        from creditcase.core.cases import Case

        document = Case(pk=ObjectId(case["id"]), domain=case["domain"], matter=case["matter"],
                        department=case["department"], subject_code=case["subject_code"],
                        subject_name=case["subject_name"], subject_kind=case["subject_kind"],
                        data=case["data"], state="checking", handler=self.handler)
        check = checks.run_check(self.host, document, request_id=str(uuid.uuid4()),
                                 requested_by=self.handler)
        return json.dumps({"result": check.result, "result_hash": check.result_hash,
                           "receipt": check.receipt}, ensure_ascii=False)

    @staticmethod
    def rejecting(check: dict) -> bool:
        """The gateway's condition: an applied measure requires rejection."""
        return any(m["effect"] == "reject" for m in check["result"]["measures"])

    def decide(self, check: dict, outcome: str) -> dict:
        feedback = [{"measure": m["code"], "applied": True} for m in check["result"]["measures"]]
        return {"outcome": outcome, "feedback": feedback, "decided_by": self.handler,
                "check_hash": check["result_hash"]}

    def archive(self, case: dict, check: dict, decision: dict) -> str:
        from creditcase.core.canonical import digest

        return digest({"case": case, "check": check, "decision": decision})

    # running ----------------------------------------------------------------------------
    def run_case(self, subject: dict, application: dict) -> dict:
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

        workflow = BpmnWorkflow(self.spec, script_engine=self.engine)
        workflow_id = uuid.uuid4().hex
        workflow.data.update({"subject": subject, "domain": harness.DEFAULT_DOMAIN,
                              "application": application})
        start = workflow.get_tasks(spec_name="start")[0]
        start.data.update(workflow.data)

        def saved(task: Any) -> None:
            name = task.task_spec.name
            if name in ("apply", "check", "archive") or name in ("approve", "reject"):
                self.collection.replace_one(
                    {"_id": workflow_id},
                    {"_id": workflow_id, "step": name,
                     "state": self.serializer.serialize_json(workflow)}, upsert=True)

        workflow.do_engine_steps(did_complete_task=saved)
        if not workflow.is_completed():
            raise RuntimeError("the Spiff workflow did not complete")
        return workflow.last_task.data


# -- creditcase, same layout ---------------------------------------------------------------------

def creditcase_case(rt: Any, principal: Any, subject: dict, application: dict) -> None:
    workflow = rt.workflow
    case = workflow.apply(principal, domain=harness.DEFAULT_DOMAIN, matter=MATTER,
                          subject=subject, data=application)
    check = workflow.perform_check(str(case.pk), case.check_request_id, principal.username)
    if check is None:
        raise RuntimeError(f"case {case.pk} was not checked")
    outcome, feedback, reasons = harness.feedback_for(check)
    workflow.decide(principal, str(case.pk), outcome=outcome, feedback=feedback, reasons=reasons)
    workflow.archive(principal, str(case.pk))


def mark_requests_sent() -> None:
    """Check requests performed in-process are done: mark them so nothing replays them."""
    from creditcase.core.db import utcnow
    from creditcase.core.outbox import CHECKS_EXCHANGE, OutboxEntry

    OutboxEntry.objects(exchange=CHECKS_EXCHANGE, sent_at=None).update(set__sent_at=utcnow())


def timed(label: str, cases: list[tuple[dict, dict]], run: Any, db: Any) -> dict[str, Any]:
    latencies = []
    before = harness.opcounters(db)
    t0 = time.perf_counter()
    for subject, application in cases:
        s = time.perf_counter()
        run(subject, application)
        latencies.append(time.perf_counter() - s)
    elapsed = time.perf_counter() - t0
    after = harness.opcounters(db)
    harness.log(f"{label}: {len(cases)} cases in {elapsed:.1f}s")
    return {"cases": len(cases), "seconds": elapsed, "cases_per_s": len(cases) / elapsed,
            "writes_per_case": harness.writes(before, after) / len(cases),
            "queries_per_case": harness.reads(before, after) / len(cases),
            "commands_per_case": (after["command"] - before["command"]) / len(cases),
            "latency_ms": {"p50": harness.percentile(latencies, 50) * 1000,
                           "p99": harness.percentile(latencies, 99) * 1000}}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument("--records-per-subject", type=int, default=3)
    parser.add_argument("--blacklisted-share", type=float, default=0.1)
    parser.add_argument("--mongodb-uri", default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    from creditcase.core import db as core_db

    with harness.database_server(args.mongodb_uri) as server:
        rt = harness.build_runtime(server.uri, DB_NAME)
        city = harness.seed_city(rt.host)
        codes = harness.subject_codes(args.subjects)
        database = core_db.database()
        harness.seed_records(database, codes, args.records_per_subject, city.department)
        harness.seed_blacklist(codes[: int(len(codes) * args.blacklisted_share)], city.department)
        rng = random.Random(5)

        def jobs(n: int) -> list[tuple[dict, dict]]:
            return [({"code": c, "name": f"基准企业{c[-6:]}有限公司"}, harness.application(rng))
                    for c in rng.choices(codes, k=n)]

        peer = SpiffPeer(rt.host, city.department, city.handler.username,
                         database["spiff_workflows"])
        ours = jobs(args.cases)
        theirs = [(dict(s), dict(a)) for s, a in ours]
        for subject, application in jobs(args.warmup):
            peer.run_case(subject, application)
            creditcase_case(rt, city.handler, subject, application)
        mark_requests_sent()
        spiff = timed("SpiffWorkflow", theirs, peer.run_case, database)
        cc = timed("creditcase", ours, lambda s, a: creditcase_case(rt, city.handler, s, a),
                   database)
        mark_requests_sent()
        saved = database["spiff_workflows"].find_one(sort=[("_id", -1)])
        state_bytes = len(saved["state"]) if saved else 0
    ratio = harness.ratio(cc["cases_per_s"], spiff["cases_per_s"])
    result = {"database": server.kind, "creditcase": cc, "spiffworkflow": spiff,
              "spiff_version": _spiff_version(), "spiff_state_bytes": state_bytes,
              "ratio": ratio, "target": f">= {TARGET_RATIO}", "met": ratio >= TARGET_RATIO}
    path = harness.write_result(NAME, result)
    print(harness.table([
        ["creditcase cases/s", cc["cases_per_s"], ""],
        ["SpiffWorkflow cases/s", spiff["cases_per_s"], ""],
        ["ratio", ratio, f">= {TARGET_RATIO}"],
        ["creditcase case p50 ms", cc["latency_ms"]["p50"], ""],
        ["SpiffWorkflow case p50 ms", spiff["latency_ms"]["p50"], ""],
        ["Spiff serialised state, bytes", state_bytes, ""],
        ["creditcase writes / queries per case",
         f"{cc['writes_per_case']:.1f} / {cc['queries_per_case']:.1f}", ""],
        ["SpiffWorkflow writes / queries per case",
         f"{spiff['writes_per_case']:.1f} / {spiff['queries_per_case']:.1f}", ""],
    ], ["peer", "value", "target"]))
    print(f"\nwritten {path}")
    return result


def _spiff_version() -> str:
    from importlib.metadata import version

    return version("SpiffWorkflow")


if __name__ == "__main__":
    main()
