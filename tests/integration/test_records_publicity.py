"""双公示 over time: the sweep (due → overdue, published → ended at the end of the
period), the public search and page (masked, only records within their period),
and the overdue report per department."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from creditcase.core import ids, publicity, records
from creditcase.core.accounts import User, issue_token
from creditcase.core.audit import AuditEvent
from creditcase.core.cases import WorkflowService
from creditcase.core.errors import PermissionDenied
from creditcase.core.outbox import OutboxEntry
from creditcase.core.records import CreditRecord
from creditcase.core.runtime import Runtime
from creditcase.web import create_app

TODAY = dt.date(2026, 11, 26)
COMPANY = ids.make_uscc("91410481MA40K1Y37")
AUTHORITY = ids.make_uscc("11410481001122339")
PERSON = ids.make_id_number("41048119850312003")
REPRESENTATIVE = ids.make_id_number("41048119700101001")


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(publicity, "today_local", lambda: TODAY)


def penalty(doc_no: str, decided: str, severity: str = "general", *,
            person: bool = False, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "CF_XDR_MC": "舞钢市恒信建材有限公司", "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": COMPANY, "CF_FRDB": "李某", "CF_FR_ZJLX": "身份证",
        "CF_FR_ZJHM": REPRESENTATIVE, "CF_WSH": doc_no, "CF_WFXW": "销售不合格建材",
        "CF_SY": "经抽检不合格。", "CF_YJ": "《产品质量法》第四十九条", "CF_CFLB": "罚款",
        "CF_NR": "罚款人民币贰仟元", "CF_NR_FK": "0.2", "CF_JDRQ": decided,
        "CF_CFJG": "舞钢市市场监督管理局", "CF_CFJGDM": AUTHORITY, "CF_SJLY": "舞钢市市场监督管理局",
        "CF_SJLYDM": AUTHORITY, "severity": severity}
    if person:
        for key in ("CF_XDR_SHXYM", "CF_FRDB", "CF_FR_ZJLX", "CF_FR_ZJHM"):
            row.pop(key)
        row.update(CF_XDR_MC="王某某", CF_XDR_LB="自然人", CF_XDR_ZJLX="身份证",
                   CF_XDR_ZJHM=PERSON, CF_SY=f"当事人王某某（身份证号{PERSON}）无证经营。")
    row.update(extra)
    return row


def push(principal, raw: dict[str, Any], *, on: dt.date = TODAY,
         department: str | None = None) -> CreditRecord:
    [outcome] = records.store_batch(principal, [records.load_record(raw)], today=on,
                                    source_department=department, keep_records=True)
    assert outcome.outcome in ("created", "updated"), outcome.errors
    assert outcome.record is not None
    return outcome.record


# -- sweep ---------------------------------------------------------------------------------------

def test_sweep_marks_overdue_and_ends_publication_at_the_maximum(city):
    due = push(city.provider, penalty("罚〔2026〕1号", "2026-11-20", publish=False))
    assert due.publicity_state == "due" and due.publication_due == dt.date(2026, 12, 1)
    shown = push(city.provider, penalty("罚〔2026〕2号", "2026-04-10"), on=dt.date(2026, 4, 13))
    assert shown.publicity_until == dt.date(2027, 4, 10) and shown.published_late is False

    assert publicity.sweep(dt.date(2026, 12, 1)).as_dict() == {"overdue": 0, "ended": 0}
    assert publicity.sweep(dt.date(2026, 12, 2)).as_dict() == {"overdue": 1, "ended": 0}
    assert CreditRecord.objects.get(pk=due.pk).publicity_state == "overdue"
    # the last day of the period is still shown; the day after, publication stops
    assert publicity.sweep(dt.date(2027, 4, 10)).ended == 0
    assert publicity.sweep(dt.date(2027, 4, 11)).as_dict() == {"overdue": 0, "ended": 1}
    ended = CreditRecord.objects.get(pk=shown.pk)
    assert ended.publicity_state == "ended" and ended.publicity_ended_at is not None
    assert publicity.sweep(dt.date(2027, 4, 11)).as_dict() == {"overdue": 0, "ended": 0}
    assert OutboxEntry.objects(routing_key="record.publicity_ended").count() == 1
    assert AuditEvent.objects(action="record.publicity_overdue").count() == 1


def test_sweep_ends_repaired_and_revoked_records(city):
    record = push(city.provider, penalty("罚〔2026〕3号", "2026-11-20"))
    CreditRecord.objects(pk=record.pk).update(set__state="repaired")
    assert publicity.sweep(TODAY).ended == 1


def test_a_record_pushed_after_its_period_is_never_shown(city):
    old = push(city.provider, penalty("罚〔2023〕9号", "2023-06-01"))
    assert old.publicity_regime == "NDRC-ORDER-2023-58"
    assert old.publicity_until == dt.date(2026, 6, 1) and old.publicity_state == "ended"
    assert old.published_at is None
    assert old.publication_due is None and old.published_late is None  # no 2023 calendar
    licence = {"XK_XDR_MC": "舞钢市恒信建材有限公司", "XK_XDR_LB": "法人及非法人组织",
               "XK_XDR_SHXYM": COMPANY, "XK_FRDB": "李某", "XK_XKWS": "临时占道许可决定书",
               "XK_WSH": "舞城管许〔2025〕3号", "XK_NR": "准予临时占道", "XK_JDRQ": "2025-03-03",
               "XK_YXQZ": "2025-03-03", "XK_YXQZI": "2026-03-02", "XK_XKJG": "舞钢市城市管理局",
               "XK_XKJGDM": AUTHORITY, "XK_LYDW": "舞钢市城市管理局", "XK_LYDWDM": AUTHORITY}
    expired = push(city.provider, licence)
    assert expired.publicity_state == "ended" and expired.publicity_until == dt.date(2026, 3, 2)
    assert expired.publication_due == dt.date(2025, 3, 12) and expired.published_late is True


# -- public search -------------------------------------------------------------------------------

@pytest.fixture
def client(settings, host, city) -> FlaskClient:
    app = create_app({"TESTING": True}, runtime=Runtime(settings, host, WorkflowService(host),
                                                        settings.mongodb_uri))
    return app.test_client()


def headers(username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(User.objects.get(username=username))}"}


def test_public_search_masks_and_shows_only_records_in_their_period(city, client):
    company = push(city.provider, penalty("罚〔2026〕11号", "2026-11-20"))
    person = push(city.provider, penalty("罚〔2026〕12号", "2026-11-20", person=True))
    push(city.provider, penalty("罚〔2026〕13号", "2026-11-20", publish=False))   # due
    push(city.provider, penalty("罚〔2026〕14号", "2026-11-20", "minor",
                                CF_CFLB="警告", CF_NR_FK=None))                        # not published
    # published when pushed in 2024, its period (Order 58: 3 years) ended on 2026-06-01;
    # the sweep has not run, and the search hides it anyway
    stale = push(city.provider, penalty("罚〔2023〕15号", "2023-06-01"), on=dt.date(2024, 1, 2))
    assert stale.publicity_state == "published"

    response = client.get("/api/v1/public/publicity", query_string={"q": "舞钢市恒信"})
    assert response.status_code == 200
    assert [r["doc_no"] for r in response.get_json()] == ["罚〔2026〕11号"]
    assert json.loads(response.headers["X-Pagination"])["total"] == 1
    [found] = response.get_json()
    assert found["id"] == str(company.pk) and found["subject_code"] == COMPANY
    assert found["publicity_until"] == "2027-11-20"
    assert found["fields"]["CF_GSJZQ"] == "2027-11-20"
    assert found["fields"]["CF_FR_ZJHM"] == ids.mask_id_number(REPRESENTATIVE)
    assert REPRESENTATIVE not in response.get_data(as_text=True)

    by_code = client.get("/api/v1/public/publicity", query_string={"q": PERSON.lower()})
    text = by_code.get_data(as_text=True)
    assert PERSON not in text and "王某某" not in text
    [shown] = by_code.get_json()
    assert shown["id"] == str(person.pk)
    assert shown["subject_name"] == "王**" and shown["fields"]["CF_XDR_MC"] == "王**"
    assert shown["subject_code"] == ids.mask_id_number(PERSON)
    assert shown["fields"]["CF_XDR_ZJHM"] == ids.mask_id_number(PERSON)
    assert ids.mask_id_number(PERSON) in shown["fields"]["CF_SY"]
    assert [r["doc_no"] for r in client.get(
        "/api/v1/public/publicity", query_string={"q": "王某"}).get_json()] == ["罚〔2026〕12号"]
    everything = client.get("/api/v1/public/publicity").get_json()
    assert sorted(r["doc_no"] for r in everything) == ["罚〔2026〕11号", "罚〔2026〕12号"]


def test_public_page_searches_by_name_or_code_and_masks(city, client):
    push(city.provider, penalty("罚〔2026〕21号", "2026-11-20", person=True))
    push(city.provider, penalty("罚〔2026〕22号", "2026-11-20"))
    empty = client.get("/public/publicity")
    assert empty.status_code == 200
    page = empty.get_data(as_text=True)
    assert "双公示" in page and 'name="viewport"' in page and "查询结果" not in page
    assert 'method="post"' in page

    by_code = client.post("/public/publicity", data={"q": PERSON, "kind": ""})
    html = by_code.get_data(as_text=True)
    assert by_code.status_code == 200 and "查询结果（共 1 条）" in html
    assert PERSON not in html and "王某某" not in html
    assert ids.mask_id_number(PERSON) in html and "罚〔2026〕21号" in html and "王**" in html

    # an ID number in a URL is not searched and not repeated in the page
    linked = client.get("/public/publicity", query_string={"q": PERSON})
    html = linked.get_data(as_text=True)
    assert linked.status_code == 200 and PERSON not in html and "查询结果" not in html

    by_name = client.get("/public/publicity", query_string={"q": "恒信建材", "kind": "penalty"})
    html = by_name.get_data(as_text=True)
    assert "罚〔2026〕22号" in html and "舞钢市恒信建材有限公司" in html
    assert "2027-11-20" in html and REPRESENTATIVE not in html
    assert 'value="恒信建材"' in html
    by_uscc = client.post("/public/publicity", data={"q": COMPANY})
    assert "罚〔2026〕22号" in by_uscc.get_data(as_text=True)
    none = client.get("/public/publicity", query_string={"q": "不存在的公司"})
    assert "没有找到公示期内的信息" in none.get_data(as_text=True)
    assert client.get("/public/publicity", query_string={"kind": "award"}).status_code == 400
    assert client.get("/public/publicity", query_string={"q": "x" * 101}).status_code == 400


def test_public_page_paginates_name_searches(city, client):
    batch = [records.load_record(penalty(f"罚〔2026〕{n}号", "2026-11-20")) for n in range(100, 125)]
    records.store_batch(city.provider, batch, today=TODAY)
    first = client.get("/public/publicity", query_string={"q": "恒信"}).get_data(as_text=True)
    assert "查询结果（共 25 条）" in first and "第 1 / 2 页" in first
    assert first.count('data-label="决定文书号"') == 20
    second = client.get("/public/publicity", query_string={"q": "恒信", "page": 2})
    assert second.get_data(as_text=True).count('data-label="决定文书号"') == 5


def test_a_name_search_that_runs_out_of_time_says_so(city, client, monkeypatch):
    from pymongo.errors import ExecutionTimeout

    push(city.provider, penalty("罚〔2026〕41号", "2026-11-20"))
    collection = CreditRecord._get_collection()
    budgets = []

    class Slow:
        def find(self, *args: Any, max_time_ms: int, **kwargs: Any):
            budgets.append(max_time_ms)
            raise ExecutionTimeout("operation exceeded time limit", 50)

    monkeypatch.setattr(CreditRecord, "_get_collection", classmethod(lambda cls: Slow()))
    api = client.get("/api/v1/public/publicity", query_string={"q": "恒信"})
    assert api.status_code == 503 and api.mimetype == "application/problem+json"
    page = client.get("/public/publicity", query_string={"q": "恒信"})
    assert page.status_code == 503 and "查询超时" in page.get_data(as_text=True)
    assert budgets == [5000, 5000]
    monkeypatch.setattr(CreditRecord, "_get_collection", classmethod(lambda cls: collection))
    by_code = client.get("/api/v1/public/publicity", query_string={"q": COMPANY})
    assert [r["doc_no"] for r in by_code.get_json()] == ["罚〔2026〕41号"]


def test_public_page_is_rate_limited(settings, host, city):
    import dataclasses

    limited_settings = dataclasses.replace(settings, public_rate_limit="2 per minute")
    app = create_app({"TESTING": True}, runtime=Runtime(
        limited_settings, host, WorkflowService(host), settings.mongodb_uri))
    client = app.test_client()
    assert client.get("/public/publicity?q=x").status_code == 200
    assert client.get("/public/publicity?q=x").status_code == 200
    limited = client.get("/public/publicity?q=x")
    assert limited.status_code == 429 and "查询过于频繁" in limited.get_data(as_text=True)


# -- overdue report ------------------------------------------------------------------------------

def seed_timeliness(city) -> None:
    push(city.provider, penalty("罚〔2026〕31号", "2026-11-02"), on=dt.date(2026, 11, 3))   # on time
    push(city.provider, penalty("罚〔2026〕32号", "2026-05-06"))                           # late
    push(city.provider, penalty("罚〔2026〕33号", "2026-11-20", publish=False))            # due
    push(city.provider, penalty("罚〔2026〕34号", "2026-10-09", publish=False),
         on=dt.date(2026, 10, 9))                                                        # overdue later
    push(city.credit_office, penalty("罚〔2026〕35号", "2026-11-02"),
         department="410481-T2")                                                          # late, T2


def test_overdue_report_per_department(city):
    seed_timeliness(city)
    report = publicity.overdue_report(city.credit_office, today=TODAY)
    assert report["swept"] == {"overdue": 1, "ended": 0}
    rows = {d["department"]: d for d in report["departments"]}
    assert rows["410481-T1"] == {"department": "410481-T1", "on_time": 1, "late": 1, "due": 1,
                                 "overdue": 1, "unknown": 0, "total": 4}
    assert rows["410481-T2"]["late"] == 1 and rows["410481-T2"]["total"] == 1
    [overdue] = report["overdue"]
    assert overdue["doc_no"] == "罚〔2026〕34号"
    assert overdue["publication_due"] == dt.date(2026, 10, 19)  # Sat 10-10 was a working day
    assert overdue["working_days_late"] == 28

    own = publicity.overdue_report(city.provider, today=TODAY)
    assert [d["department"] for d in own["departments"]] == ["410481-T1"]
    with pytest.raises(PermissionDenied):
        publicity.overdue_report(city.provider, department="410481-T2", today=TODAY)


def test_overdue_report_and_listing_over_http(city, client):
    seed_timeliness(city)
    office = client.get("/api/v1/publicity/overdue", headers=headers("office"))
    assert office.status_code == 200
    body = office.get_json()
    assert {d["department"] for d in body["departments"]} == {"410481-T1", "410481-T2"}
    assert body["overdue"][0]["doc_no"] == "罚〔2026〕34号"
    named = client.get("/api/v1/publicity/overdue?department=410481-T2", headers=headers("office"))
    assert [d["department"] for d in named.get_json()["departments"]] == ["410481-T2"]
    provider = client.get("/api/v1/publicity/overdue", headers=headers("provider")).get_json()
    assert [d["department"] for d in provider["departments"]] == ["410481-T1"]
    assert client.get("/api/v1/publicity/overdue?department=410481-T2",
                      headers=headers("provider")).status_code == 403
    assert client.get("/api/v1/publicity/overdue").status_code == 401

    listing = client.get("/api/v1/publicity/records?state=overdue", headers=headers("provider"))
    assert [r["doc_no"] for r in listing.get_json()] == ["罚〔2026〕34号"]
    due = client.get("/api/v1/publicity/records?state=due", headers=headers("provider"))
    assert [r["doc_no"] for r in due.get_json()] == ["罚〔2026〕33号"]
    assert client.get("/api/v1/publicity/records?department=410481-T2",
                      headers=headers("provider")).status_code == 403
    all_t2 = client.get("/api/v1/publicity/records?department=410481-T2", headers=headers("office"))
    assert [r["doc_no"] for r in all_t2.get_json()] == ["罚〔2026〕35号"]
    assert client.post("/api/v1/publicity/sweep", headers=headers("provider")).status_code == 403
    assert client.post("/api/v1/publicity/sweep", headers=headers("office")).get_json() == \
        {"overdue": 0, "ended": 0}
