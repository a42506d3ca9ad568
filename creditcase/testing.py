"""pytest fixtures for creditcase and for authors of creditcase plugins.

Enable them in a ``conftest.py`` with ``pytest_plugins = ["creditcase.testing"]``.
The database is a real wire-protocol server: ``CREDITCASE_TEST_MONGODB_URI`` if
set, otherwise an embedded SecantusDB server started once per test session.
Every test starts with empty collections (indexes kept) and the shipped
catalogues loaded.

Fixtures: ``mongo_uri`` (session), ``db``, ``host``, ``workflow``, ``city``.
Helpers: :func:`run_pending_checks` performs queued check requests in-process,
so core and plugin tests need no broker.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from creditcase.config import Settings
from creditcase.core import accounts, runtime
from creditcase.core import db as core_db
from creditcase.core.accounts import Principal
from creditcase.core.cases import WorkflowService
from creditcase.core.plugins import PluginHost


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
