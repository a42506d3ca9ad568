"""The ``creditcase`` command against the test database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from creditcase.cli import main
from creditcase.core import accounts, plugins
from creditcase.core.evidence import EvidenceBundle


@pytest.fixture
def run(db, settings, monkeypatch):
    monkeypatch.setenv("CREDITCASE_MONGODB_URI", settings.mongodb_uri)
    monkeypatch.setenv("CREDITCASE_MONGODB_DB", settings.mongodb_db)
    monkeypatch.setenv("CREDITCASE_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("code,ok", [
    ("91350100M000100Y43", True), ("９１３５０１００Ｍ０００１００Ｙ４３", True),
    ("11010519491231002x", True), ("91350100M000100Y4Z", False), ("110105194902300027", False),
])
def test_ids_check(code, ok):
    result = CliRunner().invoke(main, ["ids", "check", code])
    assert (result.exit_code == 0) is ok
    if not ok:
        assert result.output.startswith("invalid: ")


def test_id_numbers_are_masked_in_output():
    result = CliRunner().invoke(main, ["ids", "check", "11010519491231002X"])
    assert "1101**********002X" in result.output and "19491231" not in result.output


def test_calendar_add_working_days_and_load_a_year(run, tmp_path):
    assert run("calendar", "add-working-days", "2025-09-30", "7").output.strip() == "2025-10-16"
    assert run("calendar", "add-working-days", "2026-02-13", "7").output.strip() == "2026-03-02"
    missing = run("calendar", "add-working-days", "2026-12-25", "7")
    assert missing.exit_code != 0 and "2027" in missing.output
    year = {"year": 2027, "off": ["2027-01-01"], "makeup_workdays": [], "source": "测试通知"}
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(year), "utf-8")
    assert run("calendar", "load", str(path)).exit_code == 0
    # 2026-12-25 (Fri) + 7: Dec 28-31, Jan 1 off, Jan 4-6
    assert run("calendar", "add-working-days", "2026-12-25", "7").output.strip() == "2027-01-06"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**year, "makeup_workdays": ["2027-01-05"]}), "utf-8")
    result = run("calendar", "load", str(bad))
    assert result.exit_code != 0 and "makeup" in result.output


def test_users_create_prints_a_working_token(run):
    assert run("departments", "create", "410481-CZJ", "舞钢市财政局").exit_code == 0
    result = run("users", "create", "zhang", "--role", "handler", "--department", "410481-CZJ",
                 "--token")
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    assert accounts.user_for_token(token).username == "zhang"
    assert run("users", "create", "li", "--role", "nope", "--department", "410481-CZJ").exit_code
    assert run("users", "create", "li", "--role", "handler", "--department", "X").exit_code


def test_archive_verify_names_the_tampered_bundle(run, city, workflow):
    from creditcase.testing import run_pending_checks

    for i in range(2):
        case = workflow.apply(city.handler, domain="land", matter="土地出让",
                              subject={"code": "91350100M000100Y43", "name": f"某公司{i}"},
                              data=_land_data())
        run_pending_checks(workflow)
        check = workflow.latest_check(workflow.get(city.handler, str(case.pk)))
        workflow.decide(city.handler, str(case.pk), outcome="approved",
                        feedback=[{"measure": m["code"], "applied": True} for m in check.measures])
        workflow.archive(city.handler, str(case.pk))
    ok = run("archive", "verify")
    assert ok.exit_code == 0 and "2 bundles verified" in ok.output
    EvidenceBundle._get_collection().update_one({"seq": 2}, {"$set": {"hash": "0" * 64}})
    bad = run("archive", "verify")
    assert bad.exit_code == 1
    assert "BAD bundle seq=2" in bad.output and "1 of 2 bundles failed" in bad.output


def _land_data():
    from creditcase.plugins.land import LandDomain

    fields = LandDomain.application_schema().fields
    sample = {"parcel_no": "舞自然资〔2026〕-07号", "location": "舞钢市垭口街道", "area_m2": "12000",
              "land_use": "工业", "transfer_method": "挂牌", "starting_price": "3600000",
              "bid_deposit_paid": True}
    return {k: v for k, v in sample.items() if k in fields}


def test_plugins_lists_builtin_domains(run):
    result = run("plugins", "--json")
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["procurement"]["domains"] == ["procurement"]
    assert "creditcase_register_domains" in rows["procurement"]["hooks"]
    assert rows["core.channels"]["channels"] == ["lists", "records", "reports"]


def test_broken_plugin_stops_startup_with_its_name(run, monkeypatch):
    class BrokenEntryPoint:
        name, value, dist = "broken_sample", "broken_sample.plugin", None

        def load(self):
            raise ImportError("No module named 'broken_sample'")

    real = plugins.entry_points
    monkeypatch.setattr(plugins, "entry_points",
                        lambda group: [*real(group=group), BrokenEntryPoint()])
    result = run("plugins")
    assert result.exit_code != 0 and "broken_sample" in result.output
    monkeypatch.setenv("CREDITCASE_DISABLED_PLUGINS", "broken_sample")
    assert run("plugins").exit_code == 0


def test_disabled_plugin_is_not_loaded(run, monkeypatch):
    monkeypatch.setenv("CREDITCASE_DISABLED_PLUGINS", "tax,land")
    names = {r["name"] for r in json.loads(run("plugins", "--json").output)}
    assert "tax" not in names and "land" not in names and "procurement" in names
