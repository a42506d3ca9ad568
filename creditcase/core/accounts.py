"""Departments, users, roles and API tokens.

Passwords are hashed with argon2; bearer tokens are random 256-bit strings of
which only the SHA-256 digest is stored. Every query elsewhere is scoped with
:func:`Principal.department_filter`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import mongoengine as me
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from creditcase.core.db import utcnow
from creditcase.core.errors import Conflict, NotFound

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


def create_department(code: str, name_zh: str, *, name_en: str = "", uscc: str | None = None,
                      domains: list[str] | None = None, credit_office: bool = False) -> Department:
    if Department.objects(code=code).first():
        raise Conflict(f"department {code} exists", errors={"code": ["already exists"]})
    return Department(code=code, name_zh=name_zh, name_en=name_en, uscc=uscc,
                      enabled_domains=domains or [], is_credit_office=credit_office).save()


def create_user(username: str, *, roles: list[str], department: str, password: str | None = None,
                display_name: str = "") -> User:
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
    return user.save()


def issue_token(user: User, label: str = "") -> str:
    """Create a bearer token for ``user``; the clear text is returned once only."""
    token = "cc_" + secrets.token_urlsafe(32)
    user.update(push__tokens=ApiToken(digest=token_digest(token), label=label,
                                      created_at=utcnow()))
    return token


def user_for_token(token: str) -> User | None:
    return User.objects(tokens__digest=token_digest(token), active=True).first()
