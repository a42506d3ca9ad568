"""Start-up of the core: connect storage, create indexes, load the shipped
catalogues, build the plugin host and the workflow service. The CLI, the web
app and the queue processes each build one ``Runtime``."""

from __future__ import annotations

from dataclasses import dataclass

from creditcase.config import Settings
from creditcase.core import db
from creditcase.core.accounts import Department, User
from creditcase.core.audit import AuditEvent
from creditcase.core.calendar import CalendarYear
from creditcase.core.cases import Case, WorkflowService
from creditcase.core.checks import CreditCheck
from creditcase.core.commitments import Commitment
from creditcase.core.evidence import ChainHead, EvidenceBundle
from creditcase.core.grades import GradeResult, GradeScheme
from creditcase.core.lists import ListEntry, ListType, Measure, ensure_catalogue
from creditcase.core.matters import Matter
from creditcase.core.objections import Objection
from creditcase.core.outbox import OutboxEntry
from creditcase.core.plugins import PluginHost
from creditcase.core.records import CreditRecord
from creditcase.core.repairs import RepairApplication
from creditcase.core.reports import Agency, CreditReport
from creditcase.core.subjects import Subject

#: Every stored document class; their indexes are created at start-up.
DOCUMENTS = (Department, User, Subject, CreditRecord, ListType, Measure, ListEntry, Agency,
             CreditReport, Case, CreditCheck, EvidenceBundle, ChainHead, AuditEvent, OutboxEntry,
             CalendarYear, Matter, GradeScheme, GradeResult, Objection, RepairApplication,
             Commitment)


@dataclass
class Runtime:
    settings: Settings
    host: PluginHost
    workflow: WorkflowService
    mongodb_uri: str


def init_storage(settings: Settings) -> str:
    uri = db.connect(settings.mongodb_uri, settings.mongodb_db, settings.data_dir)
    db.ensure_indexes(*DOCUMENTS)
    ensure_catalogue()
    return uri


def build(settings: Settings, *, host: PluginHost | None = None,
          connect: bool = True) -> Runtime:
    uri = init_storage(settings) if connect else (settings.mongodb_uri or "")
    host = host or PluginHost.create(disabled=settings.disabled_plugins)
    return Runtime(settings, host, WorkflowService(host), uri)
