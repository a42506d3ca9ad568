"""The counterparty check of a state-owned property-rights transaction.

The policy asks the state-assets authority to use the credit records of
*both* parties when it reviews the transferee (舞信用办〔2020〕1号 三（五）4).
The case's subject is the transferee, so the engine's channels query only
it; a channel cannot see the application, because ``Channel.query`` receives
only the subject and the date. The counterparty (the transferor, or the
enterprise taking capital in an increase) is therefore checked from the
``creditcase_evaluate_check`` hook, with the core's own record and list
queries, and added to the result under the ``counterparty`` channel name:

* a channel receipt ``counterparty``, so the check's receipt says the
  counterparty was queried and when; if the query fails the receipt says the
  source did not answer, the check is incomplete, and the core refuses any
  decision on it, exactly as for a required channel;
* one hit per counterparty record or list entry, with the code prefixed
  ``COUNTERPARTY:`` (``COUNTERPARTY:SXBZXR``, ``COUNTERPARTY:RECORD:penalty:serious``)
  and the party named in the title and detail. The prefix keeps the
  counterparty's hits from raising the transferee's measures (``GYCQ-XZ``
  bars a *transferee* who is a dishonest judgment debtor) and from entering
  the transferee's credit grade;
* the measures the catalogue raises on the prefixed codes (``GYCQ-DFSC``,
  close review of title and genuineness of the deal), matched by the
  engine's own :func:`~creditcase.core.checks.match_measures`, so they carry
  the domain's binding, legal basis and catalogue version like any other.

Counterparty reports are not collected: a report copy in the result would be
read as the transferee's evidence. Records and lists are what the policy
requires of both parties ("信用报告或信用记录").

The hits keep their list colour, so the case's ``black_hits`` counts a
black-listed counterparty too: the case involves a black-listed party. What
this module cannot do on its own is make an open case stale when the
*counterparty's* records change: the core marks stale the cases whose subject
changed, and the counterparty is not the subject. Until the core indexes
related parties, a new check (``POST /cases/{id}/checks``) picks such a change
up, and the check is valid for 15 days only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import TYPE_CHECKING

from creditcase.core.checks import (
    ChannelReceipt,
    Hit,
    ListsChannel,
    MeasureHit,
    RecordsChannel,
    SubjectRef,
    match_measures,
)
from creditcase.core.db import utcnow
from creditcase.core.subjects import LEGAL

if TYPE_CHECKING:
    from creditcase.core.checks import CheckResult
    from creditcase.core.domains import Domain

log = logging.getLogger(__name__)

CHANNEL = "counterparty"
CHANNEL_TITLE = "交易对方（转让方）信用记录和红黑名单"
CODE_PREFIX = "COUNTERPARTY:"
#: every note that records the counterparty query starts with this text
QUERIED_NOTE = "已查询交易对方（转让方）"


@dataclasses.dataclass
class CounterpartyAnswer:
    receipt: ChannelReceipt
    hits: list[Hit]


def query(code: str, name: str, on: dt.date) -> CounterpartyAnswer:
    """The counterparty's records and list entries in force on ``on``, as prefixed hits."""
    subject = SubjectRef(code, name, LEGAL)
    as_of = utcnow()
    found: list[Hit] = []
    try:
        for channel in (RecordsChannel(), ListsChannel()):
            answer = channel.query(subject, on)
            if not answer.available:
                raise RuntimeError(answer.error or f"{channel.name} did not answer")
            found.extend(answer.hits)
    except Exception as exc:  # a failing source must block the decision, not pass silently
        log.warning("counterparty query for %s failed: %s", code, exc)
        return CounterpartyAnswer(
            ChannelReceipt(CHANNEL, CHANNEL_TITLE, False, as_of, 0, f"channel unavailable: {exc}"), [])
    hits = [_as_counterparty(hit, code, name) for hit in found]
    return CounterpartyAnswer(ChannelReceipt(CHANNEL, CHANNEL_TITLE, True, as_of, len(hits)), hits)


def _as_counterparty(hit: Hit, code: str, name: str) -> Hit:
    return dataclasses.replace(
        hit, channel=CHANNEL, code=CODE_PREFIX + hit.code,
        title=f"交易对方（转让方）{name}：{hit.title}",
        detail={**hit.detail, "party": "transferor", "party_code": code, "party_name": name,
                "source_channel": hit.channel})


def queried_note(code: str, name: str, hits: int) -> str:
    return f"{QUERIED_NOTE}{name}（统一社会信用代码 {code}）的信用记录和红黑名单：{hits} 条"


def was_queried(notes: list[str], code: str) -> bool:
    """Whether a check's notes record a counterparty query for ``code``."""
    return any(n.startswith(QUERIED_NOTE) and f"统一社会信用代码 {code}）" in n for n in notes)


def add_to_result(result: CheckResult, domain: Domain, code: str, name: str) -> list[MeasureHit]:
    """Query the counterparty and add its receipt, hits, measures and note to ``result``.

    Returns the measures the counterparty's hits raised."""
    answer = query(code, name, result.on)
    result.channels.append(answer.receipt)
    if not answer.receipt.available:
        result.notes.append(f"交易对方（转让方）{name}（{code}）信用查询未能完成，请重新查询")
        return []
    result.hits.extend(answer.hits)
    raised, skipped = match_measures(domain, answer.hits)
    known = {m.code: m for m in result.measures}
    for measure in raised:
        if measure.code in known:
            merged = sorted(set(known[measure.code].source_hits) | set(measure.source_hits))
            known[measure.code].source_hits = merged
        else:
            result.measures.append(measure)
    result.skipped_measures.extend(skipped)
    result.notes.append(queried_note(code, name, len(answer.hits)))
    return raised


__all__ = ["CHANNEL", "CHANNEL_TITLE", "CODE_PREFIX", "QUERIED_NOTE", "CounterpartyAnswer",
           "add_to_result", "queried_note", "query", "was_queried"]
