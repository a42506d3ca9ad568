"""HTML forms rendered from a domain's marshmallow application schema.

Each schema field becomes one input: its ``metadata["description"]`` is the
label (text after the first "；" becomes the hint under it), a ``OneOf``
validator becomes a select, dates and datetimes become date and
datetime-local inputs, booleans checkboxes, integers number inputs, decimals
text inputs with a decimal keyboard, lists of strings a textarea with one item
per line. :func:`read_form` turns the submitted form back into the values the
schema loads (integers as ints, booleans as bools, empty optional fields
left out), so that the schema, through the core's ``WorkflowService.apply``,
is the one place that validates them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict


@dataclass
class FieldSpec:
    name: str
    label: str
    kind: str  # text, select, date, datetime, integer, decimal, checkbox, lines, json
    required: bool
    hint: str = ""
    choices: list[str] = field(default_factory=list)
    minimum: Any = None
    maximum: Any = None
    max_length: int | None = None

    @property
    def input_id(self) -> str:
        return f"data-{self.name}"

    @property
    def form_name(self) -> str:
        return f"data.{self.name}"


def _label(name: str, f: ma.fields.Field) -> tuple[str, str]:
    text = str(f.metadata.get("description") or name)
    head, sep, tail = text.partition("；")
    return head.strip(), tail.strip() if sep else ""


def _kind(f: ma.fields.Field) -> str:
    if isinstance(f, ma.fields.Boolean):
        return "checkbox"
    if isinstance(f, ma.fields.DateTime):
        return "datetime"
    if isinstance(f, ma.fields.Date):
        return "date"
    if isinstance(f, ma.fields.Integer):
        return "integer"
    if isinstance(f, ma.fields.Number):
        return "decimal"
    if isinstance(f, ma.fields.List) and isinstance(f.inner, ma.fields.String):
        return "lines"
    if isinstance(f, ma.fields.Nested | ma.fields.Dict | ma.fields.List):
        return "json"
    return "text"


def field_specs(schema: ma.Schema) -> list[FieldSpec]:
    """The inputs of a form for ``schema``, in the schema's field order."""
    specs = []
    for name, f in schema.fields.items():
        if f.dump_only:
            continue
        label, hint = _label(name, f)
        spec = FieldSpec(name=name, label=label, kind=_kind(f), required=bool(f.required),
                         hint=hint)
        for validator in f.validators:
            if isinstance(validator, ma.validate.OneOf):
                spec.kind = "select"
                spec.choices = [str(c) for c in validator.choices]
            elif isinstance(validator, ma.validate.Range):
                spec.minimum, spec.maximum = validator.min, validator.max
            elif isinstance(validator, ma.validate.Length):
                spec.max_length = validator.max
        specs.append(spec)
    return specs


def read_form(specs: list[FieldSpec], form: MultiDict) -> dict[str, Any]:
    """The submitted values as the schema expects them. Values that do not convert
    are passed on as text so that the schema reports them on their field."""
    data: dict[str, Any] = {}
    for spec in specs:
        if spec.kind == "checkbox":
            data[spec.name] = form.get(spec.form_name) in ("on", "true", "1", "yes")
            continue
        raw = (form.get(spec.form_name) or "").strip()
        if raw == "":
            continue  # left out: the schema says whether it is required
        if spec.kind == "integer":
            try:
                data[spec.name] = int(raw)
            except ValueError:
                data[spec.name] = raw
        elif spec.kind == "lines":
            data[spec.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif spec.kind == "json":
            try:
                data[spec.name] = json.loads(raw)
            except ValueError:
                data[spec.name] = raw
        else:
            data[spec.name] = raw
    return data


def form_values(specs: list[FieldSpec], data: dict[str, Any]) -> dict[str, Any]:
    """Stored values shown again in the inputs (for a form filled before)."""
    values: dict[str, Any] = {}
    for spec in specs:
        value = data.get(spec.name)
        if value is None:
            continue
        if spec.kind == "lines" and isinstance(value, list):
            values[spec.name] = "\n".join(str(v) for v in value)
        elif spec.kind == "json":
            values[spec.name] = json.dumps(value, ensure_ascii=False)
        elif spec.kind == "datetime" and isinstance(value, str):
            values[spec.name] = value[:16]
        else:
            values[spec.name] = value
    return values


#: marshmallow's own English messages, shown in the page's language.
_MESSAGES = {
    "Missing data for required field.": lambda: _("此项必填。"),
    "Not a valid date.": lambda: _("日期格式不正确。"),
    "Not a valid datetime.": lambda: _("日期时间格式不正确。"),
    "Not a valid integer.": lambda: _("须填写整数。"),
    "Not a valid number.": lambda: _("须填写数字。"),
    "Not a valid boolean.": lambda: _("须为是或否。"),
    "Not a valid string.": lambda: _("须填写文字。"),
    "Unknown field.": lambda: _("不认识的字段。"),
    "Field may not be null.": lambda: _("此项必填。"),
    "Not a valid list.": lambda: _("须为列表。"),
}


#: the rules of :class:`creditcase.core.ids.IdentityCodeError`, as core reports them
#: (``"<rule>: <message>"``)
_CODE_RULES = {
    "length": lambda: _("位数不对：统一社会信用代码和公民身份号码都是 18 位。"),
    "charset": lambda: _("含有不允许的字符（统一社会信用代码不使用 I、O、Z、S、V）。"),
    "authority": lambda: _("统一社会信用代码的登记管理部门代码或机构类别代码不正确。"),
    "region": lambda: _("行政区划代码部分不正确。"),
    "check_character": lambda: _("校验码不对，请核对是否输错。"),
    "birth_date": lambda: _("公民身份号码中的出生日期无效。"),
}


def localise(message: str) -> str:
    """A validation message in the page's language where the rule is known."""
    make = _MESSAGES.get(message)
    if make:
        return make()
    rule, sep, _detail = message.partition(": ")
    if sep and rule in _CODE_RULES:
        return _CODE_RULES[rule]()
    return message


def split_errors(errors: dict[str, list[str]], fields: list[str]) -> tuple[dict[str, list[str]],
                                                                         list[str]]:
    """Field errors of a form (``{"data.x": [...]}`` style keys, as core's
    ``RuleViolation.errors`` has them) for the given field names, and the rest as
    messages for the top of the form."""
    by_field: dict[str, list[str]] = {}
    rest: list[str] = []
    for key, messages in errors.items():
        texts = [localise(str(m)) for m in messages]
        if key in fields:
            by_field.setdefault(key, []).extend(texts)
        else:
            rest.extend(texts)
    return by_field, rest


__all__ = ["FieldSpec", "field_specs", "form_values", "localise", "read_form", "split_errors"]
