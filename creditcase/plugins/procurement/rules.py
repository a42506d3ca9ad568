"""The procurement-specific credit rules, as pure functions of their inputs.

* 财库〔2016〕125号 query window: the credit query may be made at any time
  from the day the tender notice is issued, and the result obtained at
  evaluation time (评审时) prevails. The system therefore accepts a decision
  only on a check taken on or after the notice day (Beijing time) *and* at or
  after the bid deadline: evaluation starts when the bids are opened at the
  deadline, so a check from before it is a query record kept in the evidence,
  not the evaluation-time result. Both bounds apply to every outcome: a
  rejection, too, must rest on the supplier's status at evaluation.
* 政府采购法第二十二条第一款第五项: a supplier must have had no major
  violation (重大违法记录) in its business in the three years before taking
  part. A serious administrative penalty decided on or after the day three
  years before the bid deadline is such a finding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from creditcase.core.checks import Hit
from creditcase.core.db import as_utc
from creditcase.core.reports import add_years
from creditcase.plugins.procurement.schema import BEIJING

#: hit codes that are a 重大违法记录 in the sense of 政府采购法实施条例第十九条
SERIOUS_VIOLATION_CODES = frozenset({"RECORD:penalty:serious"})
LOOKBACK_YEARS = 3
#: every Art. 22(5) note on a check result starts with this text
ART22_NOTE = "政府采购法第二十二条第一款第五项"


def lookback_start(bid_deadline: dt.datetime) -> dt.date:
    """The first day of the three years before the bid deadline (Beijing date)."""
    return add_years(bid_deadline.astimezone(BEIJING).date(), -LOOKBACK_YEARS)


def serious_violations(hits: Iterable[Hit], bid_deadline: dt.datetime) -> list[Hit]:
    """Serious penalties decided within the three years before the bid deadline, or later."""
    since = lookback_start(bid_deadline)
    return [h for h in hits
            if h.code in SERIOUS_VIOLATION_CODES and h.date is not None and h.date >= since]


def art22_note(hit: Hit, since: dt.date) -> str:
    return (f"{ART22_NOTE}：自 {since.isoformat()} 起有重大违法记录——{hit.title}"
            f"（{hit.date.isoformat() if hit.date else '日期不详'}，{hit.source}）")


def art22_findings(notes: Iterable[str]) -> list[str]:
    return [n for n in notes if n.startswith(ART22_NOTE)]


def query_window_problems(checked_at: dt.datetime, tender_notice_date: dt.date,
                          bid_deadline: dt.datetime) -> list[str]:
    """Reasons why a check taken at ``checked_at`` cannot be the basis of the decision."""
    local = as_utc(checked_at).astimezone(BEIJING)
    stamp = f"{local:%Y-%m-%d %H:%M}"
    if local.date() < tender_notice_date:
        return [f"信用查询时间 {stamp} 早于采购公告发布日期 {tender_notice_date.isoformat()}，"
                "不能作为本项目的查询结果，请重新查询 (财库〔2016〕125号: the check predates the "
                "tender notice; run a new check)"]
    deadline = bid_deadline.astimezone(BEIJING)
    if local < deadline:
        return [f"以评审时查询结果为准：本次信用查询 {stamp} 早于投标截止时间 "
                f"{deadline:%Y-%m-%d %H:%M}，请在评审时重新查询 (财库〔2016〕125号: the decision "
                "rests on the evaluation-time check, taken at or after the bid deadline)"]
    return []


__all__ = ["ART22_NOTE", "LOOKBACK_YEARS", "SERIOUS_VIOLATION_CODES", "art22_findings", "art22_note",
           "lookback_start", "query_window_problems", "serious_violations"]
