"""Departments, users, roles and API tokens.

Passwords are hashed with argon2; bearer tokens are random 256-bit strings of
which only the SHA-256 digest is stored. Every query elsewhere is scoped with
:func:`Principal.department_filter`.

A department handles only the domains it has enabled
(:func:`set_enabled_domains`, by its own ``dept_admin``); the credit office
sees which departments use which domains (:func:`domains_usage`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mongoengine as me
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from creditcase.core.db import utcnow
from creditcase.core.errors import Conflict, NotFound, PermissionDenied, RuleViolation

if TYPE_CHECKING:
    from creditcase.core.domains import Domain

#: Roles and what they may do (design §2).
ROLES: dict[str, str] = {
    "handler": "case handler: applies, reads checks, decides with feedback, archives",
    "reviewer": "department lead: approves overrides of mandatory measures",
    "dept_admin": "department admin: domains, matters and users of the department",
    "data_provider": "pushes credit records, list entries and reports",
    "credit_office": "信用办: lists, measures, agencies, calendar; reads every department",
    "admin": "system administrator",
}

#: Roles that see every department's data.
CITY_WIDE_ROLES = frozenset({"credit_office", "admin"})

_hasher = PasswordHasher()


def set_password_hasher(hasher: PasswordHasher) -> None:
    """Replace the argon2 parameters (tests and demo loading use cheaper ones)."""
    global _hasher
    _hasher = hasher


class Department(me.Document):
    code = me.StringField(required=True, unique=True, max_length=32,
                          help_text="short code, e.g. 410481-CZJ")
    name_zh = me.StringField(required=True)
    name_en = me.StringField(default="")
    uscc = me.StringField(help_text="the department's own 统一社会信用代码")
    enabled_domains = me.ListField(me.StringField(), help_text="domain plugins it may handle")
    is_credit_office = me.BooleanField(default=False)
    version = me.IntField(default=0)

    meta = {"collection": "departments"}


class ApiToken(me.EmbeddedDocument):
    digest = me.StringField(required=True)
    label = me.StringField(default="")
    created_at = me.DateTimeField(required=True)


class User(me.Document):
    username = me.StringField(required=True, unique=True, max_length=64)
    display_name = me.StringField(default="")
    roles = me.ListField(me.StringField(choices=tuple(ROLES)), required=True)
    department = me.StringField(required=True, help_text="Department.code")
    password_hash = me.StringField()
    tokens = me.EmbeddedDocumentListField(ApiToken)
    active = me.BooleanField(default=True)
    created_at = me.DateTimeField(default=utcnow)
    version = me.IntField(default=0)

    meta = {"collection": "users", "indexes": [
        {"fields": ["tokens.digest"], "unique": True, "sparse": True}]}

    def set_password(self, password: str) -> None:
        self.password_hash = _hasher.hash(password)

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        try:
            return _hasher.verify(self.password_hash, password)
        except VerificationError:
            return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is acting: the identity every service call carries."""

    username: str
    department: str
    roles: frozenset[str]

    @classmethod
    def of(cls, user: User) -> Principal:
        return cls(user.username, user.department, frozenset(user.roles))

    @property
    def city_wide(self) -> bool:
        return bool(self.roles & CITY_WIDE_ROLES)

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles)) or "admin" in self.roles

    def department_filter(self) -> dict:
        """Query filter restricting documents with a ``department`` field to what this
        principal may see."""
        return {} if self.city_wide else {"department": self.department}


SYSTEM = Principal("system", "", frozenset({"admin"}))


def _commit_with_audit(document: me.Document, action: str, *, actor: Principal | None,
                       created: bool, **detail) -> None:
    from creditcase.core import audit
    from creditcase.core.db import UnitOfWork

    uow = UnitOfWork()
    uow.add(document) if created else uow.save(document)
    audit.record(uow, actor or SYSTEM, action, document,
                 department=getattr(document, "department", "") or getattr(document, "code", ""),
                 **detail)
    uow.commit()


def create_department(code: str, name_zh: str, *, name_en: str = "", uscc: str | None = None,
                      domains: list[str] | None = None, credit_office: bool = False,
                      actor: Principal | None = None) -> Department:
    if Department.objects(code=code).first():
        raise Conflict(f"department {code} exists", errors={"code": ["already exists"]})
    department = Department(code=code, name_zh=name_zh, name_en=name_en, uscc=uscc,
                            enabled_domains=domains or [], is_credit_office=credit_office)
    _commit_with_audit(department, "department.created", actor=actor, created=True,
                       domains=list(domains or []))
    return department


def create_user(username: str, *, roles: list[str], department: str, password: str | None = None,
                display_name: str = "", actor: Principal | None = None) -> User:
    if not Department.objects(code=department).first():
        raise NotFound(f"no department {department}", errors={"department": ["unknown department"]})
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise Conflict(f"unknown roles {unknown}", errors={"roles": [f"unknown role {unknown[0]}"]})
    if User.objects(username=username).first():
        raise Conflict(f"user {username} exists", errors={"username": ["already exists"]})
    user = User(username=username, roles=roles, department=department,
                display_name=display_name or username)
    if password:
        user.set_password(password)
    _commit_with_audit(user, "user.created", actor=actor, created=True, roles=list(roles))
    return user


def issue_token(user: User, label: str = "") -> str:
    """Create a bearer token for ``user``; the clear text is returned once only."""
    from creditcase.core.errors import ConcurrentUpdate

    token = "cc_" + secrets.token_urlsafe(32)
    for attempt in range(5):
        user.reload()
        user.tokens.append(ApiToken(digest=token_digest(token), label=label, created_at=utcnow()))
        try:
            _commit_with_audit(user, "user.token_issued", actor=Principal.of(user),
                               created=False, label=label)
            return token
        except ConcurrentUpdate:  # another sign-in of the same user at the same moment
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def user_for_token(token: str) -> User | None:
    return User.objects(tokens__digest=token_digest(token), active=True).first()


# -- the domains a department handles ----------------------------------------------------------

def get_department(code: str) -> Department:
    department = Department.objects(code=code).first()
    if department is None:
        raise NotFound(f"no department {code}")
    return department


def may_administer(principal: Principal, department_code: str) -> bool:
    """The department's own ``dept_admin``, or a system ``admin``."""
    if "admin" in principal.roles:
        return True
    return "dept_admin" in principal.roles and principal.department == department_code


def require_administrator(principal: Principal, department_code: str, what_zh: str,
                          what_en: str) -> None:
    if not may_administer(principal, department_code):
        raise PermissionDenied(f"只有本部门管理员可以管理{what_zh} (only the dept_admin of "
                               f"{department_code} manages its {what_en})")


def require_department_reader(principal: Principal, department_code: str) -> None:
    """The department's own users and the city-wide roles read its settings."""
    if not (principal.city_wide or principal.department == department_code):
        raise PermissionDenied(f"无权查看其他部门的设置 (department {department_code} is not yours)")


def set_enabled_domains(principal: Principal, department_code: str, domains: Iterable[str], *,
                        available: Collection[str]) -> Department:
    """Replace the domains ``department_code`` handles.

    :param available: the installed domain codes (``PluginHost.domains``); any other
        code is refused (422 on ``domains`` naming it).
    Cases already taken stay as they are; new applications need the domain enabled.
    """
    from creditcase.core import audit
    from creditcase.core.db import UnitOfWork

    require_administrator(principal, department_code, "业务领域", "domains")
    wanted: list[str] = []
    for code in domains:
        code = code.strip() if isinstance(code, str) else code
        if code not in wanted:
            wanted.append(code)
    unknown = [code for code in wanted if not isinstance(code, str) or code not in available]
    if unknown:
        raise RuleViolation(
            f"unknown domains: {', '.join(map(repr, unknown))}",
            errors={"domains": [f"未安装的领域 (unknown domain {code!r})" for code in unknown]})
    department = get_department(department_code)
    before = list(department.enabled_domains or [])
    after = sorted(wanted)
    if sorted(before) == after:
        return department
    department.enabled_domains = after
    uow = UnitOfWork()
    uow.save(department)
    audit.record(uow, principal, "department.domains_set", department, department=department_code,
                 domains=after, enabled=sorted(set(after) - set(before)),
                 disabled=sorted(set(before) - set(after)))
    uow.commit()
    return department


def department_domains(principal: Principal, department_code: str,
                       installed: Mapping[str, Domain]) -> list[dict[str, Any]]:
    """Every installed domain with whether the department has it enabled, plus enabled
    domains whose plugin is no longer installed (``installed`` false)."""
    require_department_reader(principal, department_code)
    enabled = set(get_department(department_code).enabled_domains or [])
    rows = [{"code": code, "name_zh": domain.name_zh, "name_en": domain.name_en,
             "enabled": code in enabled, "installed": True}
            for code, domain in sorted(installed.items())]
    rows += [{"code": code, "name_zh": "", "name_en": "", "enabled": True, "installed": False}
             for code in sorted(enabled - set(installed))]
    return rows


def domains_usage(principal: Principal, installed: Mapping[str, Domain]) -> dict[str, Any]:
    """Which departments use which domains: for the credit office (policy §六（十二）).

    Every department against every installed domain (and any other domain a
    department has enabled or has cases in), with the enabled flag, the number of
    cases and open cases, and the matters of its catalogue in that domain (how many,
    how many active, how many require a credit report).
    """
    from creditcase.core.cases import OPEN_STATES, Case
    from creditcase.core.matters import Matter

    if not principal.city_wide:
        raise PermissionDenied("只有信用办可以查看各部门领域使用情况 (credit office only)")
    cases: dict[tuple[str, str], dict[str, int]] = {}
    for row in Case._get_collection().aggregate([
            {"$group": {"_id": {"department": "$department", "domain": "$domain"},
                        "cases": {"$sum": 1},
                        "open": {"$sum": {"$cond": [{"$in": ["$state", list(OPEN_STATES)]},
                                                    1, 0]}}}}]):
        cases[(row["_id"]["department"], row["_id"]["domain"])] = {
            "cases": row["cases"], "open": row["open"]}
    matters: dict[tuple[str, str], dict[str, int]] = {}
    for m in Matter.objects.only("department", "domain", "active", "report_required"):
        counts = matters.setdefault((m.department, m.domain),
                                    {"matters": 0, "active": 0, "report_required": 0})
        counts["matters"] += 1
        counts["active"] += int(m.active)
        counts["report_required"] += int(m.active and m.report_required)
    departments = list(Department.objects.order_by("code"))
    codes = set(installed)
    for d in departments:
        codes |= set(d.enabled_domains or [])
    codes |= {domain for _, domain in cases} | {domain for _, domain in matters}
    rows = []
    totals = {code: {"departments": 0, "cases": 0} for code in codes}
    for d in departments:
        enabled = set(d.enabled_domains or [])
        cells = []
        for code in sorted(codes):
            c = cases.get((d.code, code), {"cases": 0, "open": 0})
            m = matters.get((d.code, code), {"matters": 0, "active": 0, "report_required": 0})
            cells.append({"domain": code, "enabled": code in enabled, "cases": c["cases"],
                          "open_cases": c["open"], "matters": m["matters"],
                          "active_matters": m["active"],
                          "report_required_matters": m["report_required"]})
            totals[code]["departments"] += int(code in enabled)
            totals[code]["cases"] += c["cases"]
        rows.append({"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en or "",
                     "is_credit_office": bool(d.is_credit_office),
                     "enabled_domains": sorted(enabled), "domains": cells})
    domain_rows = []
    for code in sorted(codes):
        domain = installed.get(code)
        domain_rows.append({"code": code, "name_zh": domain.name_zh if domain else "",
                            "name_en": domain.name_en if domain else "",
                            "installed": domain is not None, **totals[code]})
    return {"domains": domain_rows, "departments": rows}
