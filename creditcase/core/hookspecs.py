"""Every plugin hook of creditcase, in lifecycle order.

Implement hooks with ``@creditcase.hookimpl`` in a module or class that is
registered under the ``creditcase.plugins`` entry-point group. Names carry the
``creditcase_`` prefix: ``register_*`` hooks return things to register,
``before_*`` hooks may veto, ``on_*`` hooks only observe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import Channel, CheckResult, CreditCheck
    from creditcase.core.domains import Domain

hookspec = pluggy.HookspecMarker("creditcase")


# -- registration (called once when the plugin manager is built) ---------------------------

@hookspec
def creditcase_register_domains() -> Sequence[Domain]:
    """Return the key-area domains this plugin provides.

    Called once at start-up. Each :class:`~creditcase.core.domains.Domain` has a
    unique ``code``; two plugins registering the same code stop start-up.

    :return: a sequence of ``Domain`` instances (may be empty).
    """


@hookspec
def creditcase_check_channels() -> Sequence[Channel]:
    """Return check channels (sources of credit information) this plugin adds.

    Called once at start-up. A channel has a unique ``name``; domains list the
    channel names they require. A channel that cannot answer must say so in
    its result (``available=False``), never return an empty success.

    :return: a sequence of ``Channel`` instances (may be empty).
    """


# -- checking --------------------------------------------------------------------------------

@hookspec
def creditcase_evaluate_check(case: Case, result: CheckResult) -> None:
    """Inspect or annotate a check result before it is frozen.

    Called for every check after the channels answered and measures were
    matched, before the recommendation and the result hash are computed.
    Implementations may add notes, channel receipts, hits and measures (for
    example for a second party of the case); they must never remove any.

    :param case: the case being checked.
    :param result: the mutable result under construction.
    """


# -- deciding --------------------------------------------------------------------------------

@hookspec
def creditcase_before_decision(case: Case, check: CreditCheck,
                               decision: Decision) -> Sequence[str] | None:
    """Veto a decision.

    Called after the core guards passed and before the decision is stored.
    Every implementation is called; all returned reasons are collected.

    :param case: the case to decide.
    :param check: the latest valid check.
    :param decision: the proposed decision with its feedback.
    :return: reasons to refuse (non-empty refuses), or ``None``/empty to accept.
    """


# -- observing -------------------------------------------------------------------------------

@hookspec
def creditcase_on_case_event(case: Case, event_type: str, data: dict[str, Any]) -> None:
    """Observe a case transition after it was committed.

    Called in the process that made the change, for ``case.applied``,
    ``case.checked``, ``case.stale``, ``case.decided`` and ``case.archived``.
    Exceptions are logged and ignored: observers cannot undo a transition.
    Anything that must not be lost belongs on the message bus instead.

    :param case: the case after the transition.
    :param event_type: the event's routing key.
    :param data: the event's data as published.
    """
