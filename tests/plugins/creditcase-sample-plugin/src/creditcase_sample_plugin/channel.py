"""A check channel that queries the provincial credit platform (信用河南) over HTTP.

Configuration, read at every query so that it can change without a restart:

* ``CREDITCASE_SAMPLE_PROVINCE_URL``: the service's base URL (required);
* ``CREDITCASE_SAMPLE_PROVINCE_TIMEOUT``: seconds for the whole exchange
  (default 5);
* ``CREDITCASE_SAMPLE_PROVINCE_TOKEN``: a bearer token, if the service wants one.

The exchange: ``POST {url}/v1/credit-query`` with
``{"subject_code", "subject_kind", "on"}``; the service answers 200 with
``{"data_as_of": "<ISO 8601>", "hits": [{"code", "title", "source", "ref",
"adverse", "color", "severity", "date", "valid_until"}]}``. A hit's ``code`` is
what the measure catalogue matches: a list type (``SXBZXR``) or
``RECORD:<kind>:<severity>``.

"Nothing found" is an answer (``available`` with no hits). Anything else, no URL
configured, a refused connection, a timeout, an HTTP error status, a body that
is not the agreed JSON, is ``available=False`` with the reason: the check is
then incomplete and the core refuses a decision on it until a new check gets
an answer. The channel never turns a failure into an empty success.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import time
import urllib.error
import urllib.request
from typing import Any

import marshmallow as ma

from creditcase import hookimpl
from creditcase.core.checks import Channel, ChannelAnswer, Hit, SubjectRef

CHANNEL_NAME = "sample_province"
URL_ENV = "CREDITCASE_SAMPLE_PROVINCE_URL"
TIMEOUT_ENV = "CREDITCASE_SAMPLE_PROVINCE_TIMEOUT"
TOKEN_ENV = "CREDITCASE_SAMPLE_PROVINCE_TOKEN"
DEFAULT_TIMEOUT = 5.0
#: the largest answer read; a larger one is refused, not truncated
MAX_ANSWER_BYTES = 1_000_000
UNAVAILABLE = "省平台不可用 (channel unavailable)"


class HitSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    source = ma.fields.String(load_default="信用河南")
    ref = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    adverse = ma.fields.Boolean(required=True)
    color = ma.fields.String(load_default=None, allow_none=True,
                             validate=ma.validate.OneOf(("red", "black")))
    severity = ma.fields.String(load_default=None, allow_none=True)
    date = ma.fields.Date(load_default=None, allow_none=True)
    valid_until = ma.fields.Date(load_default=None, allow_none=True)


class AnswerSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    data_as_of = ma.fields.AwareDateTime(required=True, default_timezone=dt.UTC)
    hits = ma.fields.List(ma.fields.Nested(HitSchema), required=True)


class ChannelFailure(Exception):
    """The service did not give a usable answer."""


class ProvincialCreditChannel:
    """The provincial platform as a :class:`~creditcase.core.checks.Channel`."""

    name = CHANNEL_NAME
    title_zh = "信用河南（省公共信用信息平台，示例接口）"

    def __init__(self, url: str | None = None, timeout: float | None = None,
                 token: str | None = None):
        self._url, self._timeout, self._token = url, timeout, token

    # configuration -------------------------------------------------------------------------
    @property
    def url(self) -> str | None:
        return self._url or os.environ.get(URL_ENV) or None

    @property
    def timeout(self) -> float:
        if self._timeout is not None:
            return self._timeout
        raw = os.environ.get(TIMEOUT_ENV)
        try:
            value = float(raw) if raw else DEFAULT_TIMEOUT
        except ValueError:
            value = DEFAULT_TIMEOUT
        return value if value > 0 else DEFAULT_TIMEOUT

    @property
    def token(self) -> str | None:
        return self._token or os.environ.get(TOKEN_ENV) or None

    # querying ------------------------------------------------------------------------------
    def query(self, subject: SubjectRef, on: dt.date) -> ChannelAnswer:
        asked_at = dt.datetime.now(dt.UTC)
        try:
            answer = AnswerSchema().load(self._exchange(subject, on))
        except ChannelFailure as exc:
            return ChannelAnswer(False, asked_at, error=f"{UNAVAILABLE}: {exc}")
        except ma.ValidationError as exc:
            return ChannelAnswer(False, asked_at,
                                 error=f"{UNAVAILABLE}: unexpected answer {exc.normalized_messages()}")
        hits = [Hit(channel=self.name, code=h["code"], title=h["title"], source=h["source"],
                    ref=h["ref"], adverse=h["adverse"], color=h["color"], severity=h["severity"],
                    date=h["date"], valid_until=h["valid_until"], detail={"platform": "信用河南"})
                for h in answer["hits"]]
        return ChannelAnswer(True, answer["data_as_of"], hits)

    def _exchange(self, subject: SubjectRef, on: dt.date) -> Any:
        url = self.url
        if not url:
            raise ChannelFailure(f"{URL_ENV} is not set")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps({"subject_code": subject.code, "subject_kind": subject.kind,
                           "on": on.isoformat()}).encode()
        request = urllib.request.Request(f"{url.rstrip('/')}/v1/credit-query", data=body,
                                         headers=headers, method="POST")
        timeout = self.timeout
        deadline = time.monotonic() + timeout
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = _read_until(response, deadline)
        except urllib.error.HTTPError as exc:
            raise ChannelFailure(f"HTTP {exc.code} {exc.reason}")
        except urllib.error.URLError as exc:
            raise ChannelFailure(f"cannot reach {url}: {exc.reason}")
        except TimeoutError:
            raise ChannelFailure(f"no answer within {timeout:g} s (timed out)")
        except (OSError, http.client.HTTPException) as exc:
            raise ChannelFailure(f"connection failed: {type(exc).__name__}: {exc}")
        try:
            return json.loads(raw)
        except ValueError:
            raise ChannelFailure("the answer is not JSON")


def _read_until(response: Any, deadline: float) -> bytes:
    """Read the body in chunks; give up at the deadline or beyond the size limit."""
    chunks, size = [], 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError
        chunk = response.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise ChannelFailure(f"the answer exceeds {MAX_ANSWER_BYTES} bytes")
        chunks.append(chunk)


@hookimpl
def creditcase_check_channels() -> list[Channel]:
    return [ProvincialCreditChannel()]


__all__ = ["CHANNEL_NAME", "TIMEOUT_ENV", "TOKEN_ENV", "URL_ENV", "ProvincialCreditChannel"]
