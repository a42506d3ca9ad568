"""A plugin with a misspelled hook: ``creditcase_register_domain`` is no hook of
creditcase (the real one is ``creditcase_register_domains``), so the plugin
manager refuses it instead of ignoring the domain silently."""

from creditcase import hookimpl


@hookimpl
def creditcase_register_domain() -> list:
    return []
