"""Service metadata: health (with a database ping), the installed domains and
the loaded plugins."""

from __future__ import annotations

import logging
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from pymongo.errors import PyMongoError

from creditcase import __version__
from creditcase.core import db
from creditcase.web.auth import login_required
from creditcase.web.context import plugin_host
from creditcase.web.errors import problem
from creditcase.web.schemas import DomainOut, HealthOut, PluginOut

log = logging.getLogger(__name__)

blp = Blueprint("meta", __name__, url_prefix="/api/v1/meta",
                description="服务状态与插件 (health, domains, plugins)")


@blp.route("/health")
class HealthView(MethodView):
    @blp.doc(summary="健康检查 (health, with a database ping)",
             description="No login. 503 (problem+json) when the database does not answer.",
             security=[])
    @blp.response(200, HealthOut)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self) -> Any:
        try:
            db.database().command("ping")
        except PyMongoError as exc:
            log.warning("health: database ping failed: %s", exc)
            return problem(503, detail="The database does not answer.",
                           type_="urn:creditcase:problem:unavailable")
        return {"status": "ok", "database": "ok", "version": __version__}


@blp.route("/domains")
class DomainsView(MethodView):
    @login_required()
    @blp.doc(summary="已安装的业务领域 (installed domains)")
    @blp.response(200, DomainOut(many=True))
    def get(self) -> list[dict[str, Any]]:
        host = plugin_host()
        return [{**domain.describe(), "plugin": host.domain_owner(code)}
                for code, domain in sorted(host.domains.items())]


@blp.route("/plugins")
class PluginsView(MethodView):
    @login_required()
    @blp.doc(summary="已加载的插件 (loaded plugins with their domains, channels and hooks)")
    @blp.response(200, PluginOut(many=True))
    def get(self) -> list[dict[str, Any]]:
        return plugin_host().describe()
