"""pytest fixtures for creditcase and for authors of creditcase plugins.

Enable them in a ``conftest.py`` with ``pytest_plugins = ["creditcase.testing"]``.
The database is a real wire-protocol server: ``CREDITCASE_TEST_MONGODB_URI`` if
set, otherwise an embedded SecantusDB server started once per test session.
Every test starts with empty collections (indexes kept) and the shipped
catalogues loaded.

Fixtures: ``mongo_uri`` (session), ``db``, ``settings``, ``host`` (session: every
installed plugin), ``workflow``, ``city``; for plugin authors ``plugin_host``
(a factory: a host with the core channels and the plugin objects you pass) and
``make_api_client`` (a factory: the HTTP API on a host, signing requests as any
user).
Helpers: :func:`run_pending_checks` performs queued check requests in-process,
so core and plugin tests need no broker; :func:`make_subject` makes subjects
with valid codes; :func:`enable_domain` enables a domain for a department;
:func:`add_to_list` puts a subject on a red or black list.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from creditcase.config import Settings
from creditcase.core import accounts, ids, runtime
from creditcase.core import db as core_db
from creditcase.core.accounts import Principal
from creditcase.core.cases import WorkflowService
from creditcase.core.plugins import PluginHost
from creditcase.core.subjects import INDIVIDUAL_BUSINESS, LEGAL, NATURAL

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from creditcase.core.lists import ListEntry


@pytest.fixture(scope="session")
def mongo_uri() -> str:
    uri = os.environ.get("CREDITCASE_TEST_MONGODB_URI")
    if uri:
        return uri
    path = Path(tempfile.mkdtemp(prefix="creditcase-test-"))
    return core_db.start_embedded(path)


@pytest.fixture(scope="session")
def _storage(mongo_uri: str, tmp_path_factory) -> Settings:
    settings = Settings(mongodb_uri=mongo_uri, mongodb_db="creditcase_test",
                        data_dir=tmp_path_factory.mktemp("data"), secret_key="test-secret")
    runtime.init_storage(settings)
    # full-cost argon2 makes every test login slow; the algorithm is the same
    from argon2 import PasswordHasher

    accounts.set_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    return settings


@pytest.fixture
def db(_storage: Settings):
    """A connected, empty database (pymongo ``Database``) with catalogues loaded."""
    database = core_db.database()
    for name in database.list_collection_names():
        database[name].delete_many({})
    from creditcase.core.lists import ensure_catalogue

    ensure_catalogue()
    yield database


@pytest.fixture
def settings(_storage: Settings) -> Settings:
    return _storage


@pytest.fixture(scope="session")
def host() -> PluginHost:
    return PluginHost.create()


@pytest.fixture
def workflow(host: PluginHost, db) -> WorkflowService:
    return WorkflowService(host)


@dataclass
class City:
    """A department with every installed domain enabled, and one user per role."""

    department: str
    handler: Principal
    reviewer: Principal
    credit_office: Principal
    provider: Principal
    other_handler: Principal


@pytest.fixture
def city(db, host: PluginHost) -> City:
    domains = sorted(host.domains)
    accounts.create_department("410481-T1", "测试局", domains=domains)
    accounts.create_department("410481-T2", "另一局", domains=domains)
    accounts.create_department("410481-XYB", "市信用办", credit_office=True)
    made = {}
    for username, roles, dept in [("handler", ["handler"], "410481-T1"),
                                  ("reviewer", ["reviewer"], "410481-T1"),
                                  ("office", ["credit_office"], "410481-XYB"),
                                  ("provider", ["data_provider"], "410481-T1"),
                                  ("other", ["handler"], "410481-T2")]:
        made[username] = Principal.of(accounts.create_user(username, roles=roles, department=dept,
                                                           password=f"{username}-pass-1"))
    return City("410481-T1", made["handler"], made["reviewer"], made["office"], made["provider"],
                made["other"])


def run_pending_checks(workflow: WorkflowService) -> int:
    """Perform every queued check request in-process (no broker); returns how many ran."""
    return workflow.perform_queued_checks()


# -- for plugin authors --------------------------------------------------------------------------

@pytest.fixture
def plugin_host() -> Callable[..., PluginHost]:
    """A factory of plugin hosts: ``plugin_host(my_plugin, ...)`` registers the core
    channels and the given plugin objects (modules or instances with ``@hookimpl``
    methods) exactly as an entry point's object is registered, then validates the
    hooks, so a misspelled hook fails here as it would at start-up.

    ``entrypoints=True`` also loads every installed plugin (then do not pass one that
    is installed too: it would be registered twice); ``disabled`` names plugins to
    block as ``CREDITCASE_DISABLED_PLUGINS`` does.
    """

    def make(*plugins: Any, entrypoints: bool = False, disabled: Iterable[str] = ()) -> PluginHost:
        return PluginHost.create(load_entrypoints=entrypoints, disabled=disabled, extra=plugins)

    return make


@dataclass(frozen=True)
class SampleSubject:
    """A subject with a valid identity code, ready for ``WorkflowService.apply``."""

    code: str
    name: str
    kind: str

    @property
    def ref(self) -> dict[str, str]:
        """The ``subject`` argument of an application."""
        return {"code": self.code, "name": self.name, "kind": self.kind}


_serial = itertools.count(1)
_SURNAMES = "王李张刘陈杨赵黄周吴"
_GIVEN_NAMES = ("建国", "秀兰", "桂芳", "志强", "海燕", "国华", "丽娟", "明亮", "春梅", "文博")
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code(body8: str) -> str:
    """``body8`` with its GB 11714 check character (organisation code, USCC pos 9-17)."""
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body8]
    r = 11 - sum(v * w for v, w in zip(values, _ORG_WEIGHTS, strict=True)) % 11
    return body8 + ("X" if r == 10 else "0" if r == 11 else str(r))


def make_subject(kind: str = LEGAL, *, name: str | None = None,
                 region: str = "410481") -> SampleSubject:
    """A new subject with a valid code: a USCC for ``LEGAL`` (91...) and
    ``INDIVIDUAL_BUSINESS`` (92...), a citizen ID number for ``NATURAL``. Every call
    in a test session gives a different code."""
    n = next(_serial)
    if kind == NATURAL:
        born = dt.date(1960, 1, 1) + dt.timedelta(days=(n * 37) % 16000)
        code = ids.make_id_number(f"{region}{born:%Y%m%d}{n % 999 + 1:03d}")
        default = f"{_SURNAMES[n % 10]}{_GIVEN_NAMES[(n // 10) % 10]}"
    elif kind in (LEGAL, INDIVIDUAL_BUSINESS):
        prefix = "91" if kind == LEGAL else "92"
        code = ids.make_uscc(f"{prefix}{region}{_org_code(f'MA{n % 1_000_000:06d}')}")
        default = f"舞钢市测试{n}号" + ("有限公司" if kind == LEGAL else "商行")
    else:
        raise ValueError(f"unknown subject kind {kind!r}")
    return SampleSubject(code, name or default, kind)


def enable_domain(department: str, code: str) -> None:
    """Enable domain ``code`` for ``department`` (through the audited core service),
    e.g. a domain of a plugin registered with :func:`plugin_host` only."""
    current = list(accounts.get_department(department).enabled_domains or [])
    if code not in current:
        accounts.set_enabled_domains(accounts.SYSTEM, department, [*current, code],
                                     available={*current, code})


def add_to_list(principal: Principal, subject: SampleSubject, list_type: str, *,
                listed_on: dt.date | None = None, doc_no: str | None = None) -> ListEntry:
    """Put ``subject`` on a red or black list (``principal`` is usually
    ``city.credit_office``), listed 30 days ago unless ``listed_on`` says otherwise."""
    from creditcase.core.lists import add_entry

    listed_on = listed_on or dt.date.today() - dt.timedelta(days=30)
    return add_entry(principal, list_type=list_type, subject_code=subject.code,
                     subject_name=subject.name,
                     basis_doc_no=doc_no or f"(2026)测试{list_type}{next(_serial)}号",
                     listed_on=listed_on)


class ApiClient:
    """The HTTP API of a test app, signing each request as a stored user
    (``user="handler"`` by default; ``user=None`` sends no token)."""

    def __init__(self, client: FlaskClient, workflow: WorkflowService):
        self.client = client
        self.workflow = workflow
        self._tokens: dict[str, str] = {}

    def headers(self, user: str | None) -> dict[str, str]:
        if user is None:
            return {}
        if user not in self._tokens:
            stored = accounts.User.objects(username=user).first()
            if stored is None:
                raise LookupError(f"no user {user!r}: create it first (the city fixture has "
                                  "handler, reviewer, office, provider, other)")
            self._tokens[user] = accounts.issue_token(stored, label="test")
        return {"Authorization": f"Bearer {self._tokens[user]}"}

    def request(self, method: str, path: str, body: Any = None, *, user: str | None = "handler",
                **kwargs: Any):
        if body is not None:
            kwargs["json"] = body
        return self.client.open(path, method=method, headers=self.headers(user), **kwargs)

    def get(self, path: str, *, user: str | None = "handler", **kwargs: Any):
        return self.request("GET", path, user=user, **kwargs)

    def post(self, path: str, body: Any = None, *, user: str | None = "handler", **kwargs: Any):
        return self.request("POST", path, body, user=user, **kwargs)

    def put(self, path: str, body: Any = None, *, user: str | None = "handler", **kwargs: Any):
        return self.request("PUT", path, body, user=user, **kwargs)

    def patch(self, path: str, body: Any = None, *, user: str | None = "handler", **kwargs: Any):
        return self.request("PATCH", path, body, user=user, **kwargs)

    def delete(self, path: str, body: Any = None, *, user: str | None = "handler", **kwargs: Any):
        return self.request("DELETE", path, body, user=user, **kwargs)

    def run_checks(self) -> int:
        """Perform the queued check requests in-process; returns how many ran."""
        return run_pending_checks(self.workflow)


@pytest.fixture
def make_api_client(settings: Settings, host: PluginHost, db) -> Callable[..., ApiClient]:
    """A factory of API clients: ``make_api_client()`` serves every installed plugin;
    ``make_api_client(plugin_host(my_plugin))`` serves the host you built."""

    installed = host

    def make(host: PluginHost | None = None, config: dict[str, Any] | None = None) -> ApiClient:
        from creditcase.web import create_app

        chosen = host or installed
        rt = runtime.Runtime(settings, chosen, WorkflowService(chosen), settings.mongodb_uri)
        app = create_app({"TESTING": True, **(config or {})}, runtime=rt)
        return ApiClient(app.test_client(), rt.workflow)

    return make
