"""Access to the core :class:`~creditcase.core.runtime.Runtime` of the current app.

``create_app`` stores the runtime in ``app.extensions["creditcase"]``; views
reach the workflow service and the plugin host through these helpers only.
"""

from __future__ import annotations

from flask import current_app

from creditcase.core.cases import WorkflowService
from creditcase.core.plugins import PluginHost
from creditcase.core.runtime import Runtime

EXTENSION_KEY = "creditcase"


def current_runtime() -> Runtime:
    return current_app.extensions[EXTENSION_KEY]


def workflow() -> WorkflowService:
    return current_runtime().workflow


def plugin_host() -> PluginHost:
    return current_runtime().host
