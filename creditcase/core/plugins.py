"""Building the plugin manager and the typed facade the rest of the code uses.

``create_plugin_manager()`` registers the hook specs, the core's own channels,
and every plugin of the ``creditcase.plugins`` entry-point group. A plugin that
fails to import, implements an unknown hook, or registers a duplicate domain
stops start-up with its name in the message. ``CREDITCASE_DISABLED_PLUGINS``
names plugins to leave out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import pluggy

from creditcase.core import hookspecs

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import Channel, CheckResult, CreditCheck
    from creditcase.core.domains import Domain

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "creditcase.plugins"
PROJECT = "creditcase"


class PluginError(RuntimeError):
    """A plugin cannot be loaded; the message names it."""


def create_plugin_manager(*, load_entrypoints: bool = True,
                          disabled: Iterable[str] = (),
                          extra: Iterable[Any] = ()) -> pluggy.PluginManager:
    from creditcase.core import checks

    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    disabled = set(disabled)
    for name in disabled:
        pm.set_blocked(name)
    pm.register(checks.BuiltinChannels(), name="core.channels")
    if load_entrypoints:
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in disabled or pm.is_blocked(ep.name):
                log.info("plugin %s disabled by configuration", ep.name)
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to load: "
                                  f"{type(exc).__name__}: {exc}") from exc
            try:
                pm.register(plugin, name=ep.name)
            except ValueError as exc:
                raise PluginError(f"plugin {ep.name!r} could not be registered: {exc}") from exc
    for plugin in extra:
        pm.register(plugin)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(f"plugin {name!r} implements an unknown hook: {exc}") from exc
    return pm


class PluginHost:
    """Typed access to the hooks. Domains and channels are collected once."""

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm
        self._domains: dict[str, Domain] = {}
        self._domain_owner: dict[str, str] = {}
        for impl in pm.hook.creditcase_register_domains.get_hookimpls():
            owner = pm.get_name(impl.plugin) or repr(impl.plugin)
            for domain in impl.function() or ():
                if domain.code in self._domains:
                    raise PluginError(
                        f"plugin {owner!r} registers domain {domain.code!r}, already registered "
                        f"by {self._domain_owner[domain.code]!r}")
                self._domains[domain.code] = domain
                self._domain_owner[domain.code] = owner
        self._channels: dict[str, Channel] = {}
        for impl in pm.hook.creditcase_check_channels.get_hookimpls():
            owner = pm.get_name(impl.plugin) or repr(impl.plugin)
            for channel in impl.function() or ():
                if channel.name in self._channels:
                    raise PluginError(f"plugin {owner!r} registers channel {channel.name!r} twice")
                self._channels[channel.name] = channel

    @classmethod
    def create(cls, **kwargs: Any) -> PluginHost:
        return cls(create_plugin_manager(**kwargs))

    # domains -----------------------------------------------------------------------------
    @property
    def domains(self) -> dict[str, Domain]:
        return dict(self._domains)

    def domain(self, code: str) -> Domain | None:
        return self._domains.get(code)

    def domain_owner(self, code: str) -> str:
        return self._domain_owner[code]

    # channels ----------------------------------------------------------------------------
    @property
    def channels(self) -> dict[str, Channel]:
        return dict(self._channels)

    # hooks -------------------------------------------------------------------------------
    def evaluate_check(self, case: Case, result: CheckResult) -> None:
        self.pm.hook.creditcase_evaluate_check(case=case, result=result)

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons: list[str] = []
        for answer in self.pm.hook.creditcase_before_decision(case=case, check=check,
                                                              decision=decision):
            reasons.extend(answer or ())
        return reasons

    def on_case_event(self, case: Case, event_type: str, data: dict[str, Any]) -> None:
        try:
            self.pm.hook.creditcase_on_case_event(case=case, event_type=event_type, data=data)
        except Exception:
            log.exception("an on_case_event observer failed for %s", event_type)

    def describe(self) -> list[dict[str, Any]]:
        """Each plugin with its version, domains, channels and hooks."""
        rows = []
        dists = {ep.name: ep.dist for ep in entry_points(group=ENTRY_POINT_GROUP)}
        for name, plugin in sorted(self.pm.list_name_plugin(), key=lambda p: str(p[0])):
            if plugin is None:
                continue
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or ())
            dist = dists.get(name)
            rows.append({
                "name": name,
                "version": dist.version if dist else None,
                "distribution": dist.name if dist else "creditcase",
                "domains": sorted(c for c, o in self._domain_owner.items() if o == name),
                "channels": sorted(getattr(c, "name", "") for c in _plugin_channels(plugin)),
                "hooks": hooks,
            })
        return rows


def _plugin_channels(plugin: Any) -> Sequence[Any]:
    fn = getattr(plugin, "creditcase_check_channels", None)
    return list(fn() or ()) if fn else []
