"""Each department's catalogue of administrative matters (事项).

Policy §六（十一） asks every department to define the matters in which it
queries credit records and uses credit reports. A :class:`Matter` names one of
them: its code (政务服务事项编码), its name, the key-area domain it is handled
in, whether a valid third-party credit report is required, and the stage of
the department's procedure at which credit is queried (受理 / 审查 / 决定).

Once a department has a catalogue, an application must name an active matter
of that department in the application's domain (:func:`matter_for_application`);
a department without one may still name its matter freely. The system checks
credit at acceptance in every case (逢办必查) and the decision guard insists on
a fresh, complete check whatever the stage, so ``check_stage`` records the
department's procedure rather than moving the check.

A matter is never deleted, because cases and the audit trail refer to it:
"deleting" one takes it out of use (``active`` false). Managing the catalogue
is for the department's own ``dept_admin`` (or a system ``admin``); every
change is one unit of work with its audit event.

This module must not import the web, queue or plugin layers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import mongoengine as me

from creditcase.core import audit
from creditcase.core.accounts import (
    Department,
    Principal,
    get_department,
    require_administrator,
    require_department_reader,
)
from creditcase.core.db import UnitOfWork, utcnow
from creditcase.core.errors import ConcurrentUpdate, Conflict, NotFound, RuleViolation

if TYPE_CHECKING:
    from creditcase.core.domains import Domain

#: Stage of the procedure at which the department queries credit.
CHECK_STAGES: dict[str, str] = {"ACCEPT": "受理", "REVIEW": "审查", "DECIDE": "决定"}
#: Fields a department admin sets; ``code`` only when the matter is created.
MATTER_FIELDS = ("name", "domain", "report_required", "check_stage", "active")
_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")


class Matter(me.Document):
    department = me.StringField(required=True, help_text="Department.code")
    code = me.StringField(required=True, max_length=64, help_text="政务服务事项编码")
    name = me.StringField(required=True, max_length=200, help_text="事项名称")
    domain = me.StringField(required=True, help_text="the key-area domain it is handled in")
    report_required = me.BooleanField(default=False,
                                      help_text="a valid third-party credit report is required")
    check_stage = me.StringField(required=True, default="ACCEPT", choices=tuple(CHECK_STAGES),
                                 help_text="受理 / 审查 / 决定")
    active = me.BooleanField(default=True)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField(required=True)
    updated_by = me.StringField(default="")
    version = me.IntField(default=0)

    meta = {"collection": "matters", "indexes": [
        {"fields": ["department", "code"], "unique": True},
        ("department", "domain", "active"),
    ]}

    @property
    def check_stage_zh(self) -> str:
        return CHECK_STAGES.get(self.check_stage, self.check_stage)


# -- reading -----------------------------------------------------------------------------------

def list_matters(principal: Principal, department_code: str, *, domain: str | None = None,
                 active: bool | None = None) -> list[Matter]:
    require_department_reader(principal, department_code)
    get_department(department_code)
    query: dict[str, Any] = {"department": department_code}
    if domain is not None:
        query["domain"] = domain
    if active is not None:
        query["active"] = active
    return list(Matter.objects(**query).order_by("domain", "code"))


def get_matter(principal: Principal, department_code: str, code: str) -> Matter:
    require_department_reader(principal, department_code)
    matter = Matter.objects(department=department_code, code=code).first()
    if matter is None:
        raise NotFound(f"department {department_code} has no matter {code}")
    return matter


def has_catalogue(department_code: str) -> bool:
    return Matter.objects(department=department_code).only("id").first() is not None


def matter_for_application(department_code: str, domain: str, matter: str) -> Matter | None:
    """The catalogue entry an application names, or ``None`` when the department keeps
    no catalogue. Raises :class:`RuleViolation` on ``matter`` when the department has a
    catalogue and ``matter`` is not one of its active matters in ``domain``."""
    if not has_catalogue(department_code):
        return None
    code = (matter or "").strip()
    entry = Matter.objects(department=department_code, code=code).first()
    if entry is None:
        problem = (f"{code!r} 不在本部门事项目录中 (not a matter in the catalogue of "
                   f"{department_code}; name it by its 事项编码)")
    elif not entry.active:
        problem = f"事项 {code}（{entry.name}）已停用 (the matter is no longer in use)"
    elif entry.domain != domain:
        problem = (f"事项 {code}（{entry.name}）属于领域 {entry.domain}，不属于 {domain} "
                   f"(the matter belongs to domain {entry.domain})")
    else:
        return entry
    raise RuleViolation(f"matter {code!r} cannot be applied for in domain {domain}",
                        errors={"matter": [problem]})


# -- changing ----------------------------------------------------------------------------------

def _validate(department: Department, values: dict[str, Any],
              domains: Mapping[str, Domain]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not str(values.get("name") or "").strip():
        errors["name"] = ["required"]
    domain_code = values.get("domain")
    domain = domains.get(domain_code) if isinstance(domain_code, str) else None
    if domain is None:
        errors["domain"] = [f"未安装的领域 (no installed domain {domain_code!r})"]
    elif domain_code not in (department.enabled_domains or []):
        errors["domain"] = [f"本部门未启用领域 {domain_code} (domain {domain_code!r} is not "
                            f"enabled for department {department.code})"]
    elif values.get("report_required") and "reports" not in domain.required_channels:
        errors["report_required"] = [
            f"领域 {domain_code} 的核查不查询第三方信用报告，无法要求报告 (the checks of domain "
            f"{domain_code} do not query the reports channel)"]
    if values.get("check_stage") not in CHECK_STAGES:
        errors["check_stage"] = [f"one of {', '.join(CHECK_STAGES)}"]
    for key in ("report_required", "active"):
        if not isinstance(values.get(key), bool):
            errors[key] = ["true or false"]
    return errors


def create_matter(principal: Principal, department_code: str, values: Mapping[str, Any], *,
                  domains: Mapping[str, Domain]) -> Matter:
    """Add a matter to the department's catalogue. ``domains`` are the installed
    domains (``PluginHost.domains``)."""
    require_administrator(principal, department_code, "事项", "matters")
    department = get_department(department_code)
    values = dict(values)
    code = str(values.pop("code", "") or "").strip()
    unknown = sorted(set(values) - set(MATTER_FIELDS))
    if unknown:
        raise RuleViolation("unknown fields", errors={k: ["unknown field"] for k in unknown})
    values = {"report_required": False, "check_stage": "ACCEPT", "active": True, **values}
    errors = _validate(department, values, domains)
    if not _CODE.fullmatch(code):
        errors["code"] = ["事项编码：字母、数字、. _ -，至多 64 位 (letters, digits, . _ -; "
                          "at most 64)"]
    if errors:
        raise RuleViolation("the matter is not valid", errors=errors)
    if Matter.objects(department=department_code, code=code).only("id").first() is not None:
        raise Conflict(f"matter {code} exists in department {department_code}",
                       errors={"code": ["already exists"]})
    now = utcnow()
    matter = Matter(department=department_code, code=code, name=values["name"].strip(),
                    domain=values["domain"], report_required=values["report_required"],
                    check_stage=values["check_stage"], active=values["active"], created_at=now,
                    updated_at=now, updated_by=principal.username)
    uow = UnitOfWork()
    uow.add(matter)
    audit.record(uow, principal, "matter.created", matter, department=department_code, code=code,
                 domain=matter.domain, report_required=matter.report_required,
                 check_stage=matter.check_stage, active=matter.active)
    uow.commit()
    return matter


def update_matter(principal: Principal, department_code: str, code: str,
                  changes: Mapping[str, Any], *, domains: Mapping[str, Domain],
                  expected_version: int | None = None) -> Matter:
    """Change a matter's name, domain, report requirement, stage or ``active`` flag;
    409 when ``expected_version`` is given and not current."""
    require_administrator(principal, department_code, "事项", "matters")
    department = get_department(department_code)
    matter = get_matter(principal, department_code, code)
    if expected_version is not None and matter.version != expected_version:
        raise ConcurrentUpdate(f"matter {code} is at version {matter.version}, not "
                               f"{expected_version}; reload and retry",
                               errors={"expected_version": [f"current version is {matter.version}"]})
    unknown = sorted(set(changes) - set(MATTER_FIELDS))
    if unknown:
        raise RuleViolation("these fields cannot be changed",
                            errors={k: ["cannot be changed"] for k in unknown})
    before = {k: getattr(matter, k) for k in MATTER_FIELDS}
    merged = {**before, **changes}
    if isinstance(merged.get("name"), str):
        merged["name"] = merged["name"].strip()
    changed = {k: merged[k] for k in changes if before[k] != merged[k]}
    if not changed:
        return matter
    if set(changed) - {"active"} or changed.get("active"):
        # taking a matter out of use is always allowed; anything else must be valid now
        errors = _validate(department, merged, domains)
        if errors:
            raise RuleViolation("the matter is not valid", errors=errors)
    for key, value in changed.items():
        setattr(matter, key, value)
    matter.updated_at, matter.updated_by = utcnow(), principal.username
    uow = UnitOfWork()
    uow.save(matter)
    audit.record(uow, principal, "matter.updated", matter, department=department_code, code=code,
                 changed={k: [before[k], v] for k, v in changed.items()})
    uow.commit()
    return matter


def deactivate_matter(principal: Principal, department_code: str, code: str) -> Matter:
    """Take a matter out of use (the catalogue keeps it for the cases that name it)."""
    return update_matter(principal, department_code, code, {"active": False}, domains={})


__all__ = ["CHECK_STAGES", "MATTER_FIELDS", "Matter", "create_matter", "deactivate_matter",
           "get_matter", "has_catalogue", "list_matters", "matter_for_application",
           "update_matter"]
