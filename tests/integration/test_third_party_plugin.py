"""The third-party sample plugin, installed with pip as a separate distribution
(``pip install ./tests/plugins/creditcase-sample-plugin``, as CI does), seen by
``creditcase plugins``, blocked by ``CREDITCASE_DISABLED_PLUGINS``, and
handling a case end to end over the API with its channel to the provincial
platform (a local stand-in server). Broken plugins stop start-up, named.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from creditcase.cli import main
from creditcase.core.cases import Case
from creditcase.core.plugins import PluginError, PluginHost
from creditcase.core.records import push_record
from creditcase.testing import ApiClient, make_subject

INSTALL = "pip install ./tests/plugins/creditcase-sample-plugin"
DISTRIBUTION, VERSION = "creditcase-sample-plugin", "0.3.0"
BROKEN = Path(__file__).resolve().parents[1] / "plugins" / "creditcase-broken-plugin"
URL_ENV, TIMEOUT_ENV = "CREDITCASE_SAMPLE_PROVINCE_URL", "CREDITCASE_SAMPLE_PROVINCE_TIMEOUT"
PROBLEM = "application/problem+json"


def _sample_entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group="creditcase.plugins")
            if ep.dist is not None and ep.dist.name == DISTRIBUTION}


@pytest.fixture(scope="module", autouse=True)
def _installed() -> None:
    if set(_sample_entry_points()) != {"sample_permit", "sample_province"}:
        pytest.fail(f"the sample plugin is not installed: run `{INSTALL}` (CI does)")


@pytest.fixture
def province(monkeypatch):
    from creditcase_sample_plugin.stub_service import ProvincialServiceStub

    with ProvincialServiceStub() as stub:
        monkeypatch.setenv(URL_ENV, stub.url)
        monkeypatch.setenv(TIMEOUT_ENV, "2")
        yield stub


@pytest.fixture
def api(make_api_client, city) -> ApiClient:
    from creditcase.core import accounts

    accounts.create_user("deptadmin", roles=["dept_admin"], department=city.department)
    return make_api_client()


def application(**changes: Any) -> dict[str, Any]:
    start = dt.date.today() + dt.timedelta(days=7)
    data = {"site_address": "舞钢市院岭街道朱兰大道与工业路交叉口", "facility_type": "LED显示屏",
            "area_m2": "24", "display_from": start.isoformat(),
            "display_until": (start + dt.timedelta(days=300)).isoformat(),
            "safety_report_no": "豫检〔2026〕第0522号"}
    data.update(changes)
    return data


def apply(api: ApiClient, subject) -> dict[str, Any]:
    response = api.post("/api/v1/cases", {"domain": "sample_permit", "matter": "户外广告设施设置许可",
                                          "subject": subject.ref, "data": application()})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def current_check(api: ApiClient, case_id: str) -> dict[str, Any]:
    return api.get(f"/api/v1/cases/{case_id}").get_json()["checks"][-1]


def problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return response.get_json()


# -- installed, listed, disabled -----------------------------------------------------------------

def test_the_distribution_declares_two_plugins():
    eps = _sample_entry_points()
    assert eps["sample_permit"].value == "creditcase_sample_plugin.permit"
    assert eps["sample_province"].value == "creditcase_sample_plugin.channel"
    assert eps["sample_permit"].dist.version == VERSION


def test_creditcase_plugins_lists_version_domains_channels_and_hooks(monkeypatch):
    monkeypatch.delenv("CREDITCASE_DISABLED_PLUGINS", raising=False)
    runner = CliRunner()
    rows = {r["name"]: r for r in json.loads(runner.invoke(main, ["plugins", "--json"]).output)}
    assert rows["sample_permit"] == {
        "name": "sample_permit", "version": VERSION, "distribution": DISTRIBUTION,
        "domains": ["sample_permit"], "channels": [],
        "hooks": ["creditcase_evaluate_check", "creditcase_register_domains"]}
    assert rows["sample_province"]["channels"] == ["sample_province"]
    assert rows["sample_province"]["hooks"] == ["creditcase_check_channels"]
    assert rows["sample_province"]["version"] == VERSION
    text = runner.invoke(main, ["plugins"]).output
    assert f"sample_permit  {VERSION}  ({DISTRIBUTION})" in text
    assert "  domains:  sample_permit" in text and "  channels: sample_province" in text


def test_disabled_plugins_blocks_the_sample_by_name(monkeypatch):
    monkeypatch.setenv("CREDITCASE_DISABLED_PLUGINS", "sample_permit")
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0
    names = {r["name"] for r in json.loads(result.output)}
    assert "sample_permit" not in names and {"sample_province", "procurement"} <= names
    host = PluginHost.create(disabled=("sample_permit",))
    assert host.domain("sample_permit") is None and "sample_province" in host.channels


# -- a case end to end over the API --------------------------------------------------------------

def test_enabled_by_the_department_it_handles_a_case_end_to_end(api, city, province):
    url = f"/api/v1/departments/{city.department}/domains"
    others = [d["code"] for d in api.get(url).get_json()["domains"]
              if d["enabled"] and d["code"] != "sample_permit"]
    assert api.put(url, {"domains": others}, user="deptadmin").status_code == 200
    subject = make_subject()
    body = {"domain": "sample_permit", "matter": "户外广告设施设置许可", "subject": subject.ref,
            "data": application()}
    assert "not enabled" in problem(api.post("/api/v1/cases", body), 422)["errors"]["domain"][0]
    assert api.put(url, {"domains": [*others, "sample_permit"]}, user="deptadmin").status_code == 200

    case = apply(api, subject)
    assert api.run_checks() == 1
    check = current_check(api, case["id"])
    channels = {c["name"]: c for c in check["channels"]}
    assert channels["sample_province"]["available"] is True
    assert channels["sample_province"]["title_zh"].startswith("信用河南")
    assert [c["name"] for c in check["receipt"]["channels"]] == ["records", "lists",
                                                                  "sample_province"]
    assert province.requests[-1]["body"] == {"subject_code": subject.code, "subject_kind": "LEGAL",
                                             "on": check["on"]}
    assert check["recommendation"]["outcome"] == "approve" and check["complete"]

    decided = api.post(f"/api/v1/cases/{case['id']}/decision", {"outcome": "approved"})
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["decision"]["rule_versions"]["domain"] == "sample_permit/sample-1.0"
    assert api.post(f"/api/v1/cases/{case['id']}/archive").status_code == 201
    evidence = api.get(f"/api/v1/cases/{case['id']}/evidence").get_json()
    assert evidence["verified"] is True
    assert "sample_province" in json.dumps(evidence["content"], ensure_ascii=False)


def test_its_own_rule_refuses_a_plain_approval_after_adverse_records(api, city, province):
    subject = make_subject()
    push_record(city.provider, {
        "subject_code": subject.code, "subject_name": subject.name, "kind": "penalty",
        "severity": "general", "title": "未经批准设置户外广告", "content": "罚款人民币叁仟元",
        "doc_no": "舞城管罚〔2026〕88号", "decision_date": dt.date.today() - dt.timedelta(days=20),
        "authority": "舞钢市城市管理局"})
    case = apply(api, subject)
    api.run_checks()
    assert current_check(api, case["id"])["recommendation"]["outcome"] == "approve_with_conditions"
    body = problem(api.post(f"/api/v1/cases/{case['id']}/decision", {"outcome": "approved"}), 422)
    assert "approve with conditions or reject" in body["errors"]["outcome"][0]
    response = api.post(f"/api/v1/cases/{case['id']}/decision", {
        "outcome": "approved_with_conditions", "conditions": ["设置期限不超过1年"]})
    assert response.status_code == 200, response.get_json()


def test_a_hit_from_the_outside_service_raises_a_measure(api, province):
    subject = make_subject()
    province.hits[subject.code] = [province.black_list_hit("SXBZXR", ref="HN-SX-2026-0042")]
    case = apply(api, subject)
    api.run_checks()
    check = current_check(api, case["id"])
    [hit] = [h for h in check["hits"] if h["channel"] == "sample_province"]
    assert (hit["code"], hit["ref"], hit["adverse"]) == ("SXBZXR", "HN-SX-2026-0042", True)
    measures = {m["code"]: m for m in check["measures"]}
    assert measures["ZD-SC"]["source_hits"] == ["HN-SX-2026-0042"]
    assert check["recommendation"]["outcome"] == "review"
    assert Case.objects.get(pk=case["id"]).black_hits == 1

    body = problem(api.post(f"/api/v1/cases/{case['id']}/decision",
                            {"outcome": "approved_with_conditions", "conditions": ["期限1年"]}), 422)
    assert "ZD-SC" in " ".join(body["errors"]["feedback"])
    response = api.post(f"/api/v1/cases/{case['id']}/decision", {
        "outcome": "approved_with_conditions", "conditions": ["期限1年"],
        "feedback": [{"measure": "ZD-SC", "applied": True, "outcome_text": "列为重点审查对象"}]})
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("mode,reason", [("error", "HTTP 503"), ("slow", "timed out")])
def test_an_unavailable_outside_service_blocks_the_decision(api, province, monkeypatch, mode,
                                                            reason):
    province.mode = mode
    monkeypatch.setenv(TIMEOUT_ENV, "0.3")
    case = apply(api, make_subject())
    api.run_checks()
    check = current_check(api, case["id"])
    channel = next(c for c in check["channels"] if c["name"] == "sample_province")
    assert channel["available"] is False and reason in channel["error"]
    assert check["complete"] is False and check["recommendation"]["outcome"] == "review"
    body = problem(api.post(f"/api/v1/cases/{case['id']}/decision", {"outcome": "approved"}), 409)
    assert "channel unavailable (sample_province)" in body["detail"]
    assert Case.objects.get(pk=case["id"]).decision is None

    province.mode = "ok"
    assert api.post(f"/api/v1/cases/{case['id']}/checks").status_code == 202
    assert api.run_checks() == 1
    assert current_check(api, case["id"])["complete"] is True
    assert api.post(f"/api/v1/cases/{case['id']}/decision",
                    {"outcome": "approved"}).status_code == 200


def test_without_the_channel_plugin_the_domain_cannot_decide(make_api_client, plugin_host, city,
                                                             province):
    api = make_api_client(plugin_host(entrypoints=True, disabled=["sample_province"]))
    case = apply(api, make_subject())
    api.run_checks()
    channel = next(c for c in current_check(api, case["id"])["channels"]
                   if c["name"] == "sample_province")
    assert channel["available"] is False and channel["error"] == "channel not installed"
    problem(api.post(f"/api/v1/cases/{case['id']}/decision", {"outcome": "approved"}), 409)
    assert province.requests == []


# -- broken plugins ------------------------------------------------------------------------------

@pytest.fixture
def install_broken(tmp_path, monkeypatch):
    """Make the broken package an installed distribution for this test only: its folder on
    ``sys.path`` and a ``dist-info`` declaring one entry point."""

    def install(entry_point: str, module: str) -> None:
        info = tmp_path / "creditcase_broken_plugin-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: creditcase-broken-plugin\n"
                                       "Version: 0.0.1\n", "utf-8")
        (info / "entry_points.txt").write_text(f"[creditcase.plugins]\n{entry_point} = {module}\n",
                                               "utf-8")
        monkeypatch.syspath_prepend(str(BROKEN))
        monkeypatch.syspath_prepend(str(tmp_path))

    yield install
    for name in [m for m in sys.modules if m.startswith("creditcase_broken_plugin")]:
        del sys.modules[name]


@pytest.mark.parametrize("entry_point,module,words", [
    ("broken_import", "creditcase_broken_plugin.missing_dependency",
     ["plugin 'broken_import'", "failed to load", "creditcase_province_sdk"]),
    ("broken_hook", "creditcase_broken_plugin.misspelled_hook",
     ["unknown hook", "creditcase_register_domain", "creditcase_broken_plugin.misspelled_hook"]),
])
def test_a_broken_plugin_stops_startup_with_its_name(install_broken, monkeypatch, entry_point,
                                                     module, words):
    monkeypatch.delenv("CREDITCASE_DISABLED_PLUGINS", raising=False)
    install_broken(entry_point, module)
    assert entry_point in {ep.name for ep in entry_points(group="creditcase.plugins")}
    with pytest.raises(PluginError) as err:
        PluginHost.create()
    for word in words:
        assert word in str(err.value)
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 1
    assert all(word in result.output for word in words)
    monkeypatch.setenv("CREDITCASE_DISABLED_PLUGINS", entry_point)
    assert CliRunner().invoke(main, ["plugins"]).exit_code == 0


# -- the fixtures plugin authors use -------------------------------------------------------------

@pytest.mark.parametrize("kind,first", [("LEGAL", "91"), ("INDIVIDUAL_BUSINESS", "92"),
                                        ("NATURAL", "410481")])
def test_make_subject_gives_a_new_valid_code_of_each_kind(kind, first):
    from creditcase.core.subjects import identify

    made = [make_subject(kind) for _ in range(50)]
    assert len({s.code for s in made}) == 50
    for subject in made:
        assert identify(subject.code, kind) == (kind, subject.code)
        assert subject.code.startswith(first) and subject.name
        assert subject.ref == {"code": subject.code, "name": subject.name, "kind": kind}
