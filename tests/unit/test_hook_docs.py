"""The plugin documentation cannot drift from the hook specifications.

Every hook in :mod:`creditcase.core.hookspecs` must appear in
``docs/plugins.md`` with its exact signature, as ``inspect.signature`` gives it
(annotations as written in the source), and the page must not document a hook
that does not exist.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from creditcase.core import hookspecs

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
SPEC_MARKER = f"{hookspecs.hookspec.project_name}_spec"


def hook_functions() -> dict[str, object]:
    return {name: fn for name, fn in vars(hookspecs).items()
            if name.startswith("creditcase_") and callable(fn) and hasattr(fn, SPEC_MARKER)}


def _annotation(value: object) -> str:
    return value if isinstance(value, str) else inspect.formatannotation(value)


def signature_text(name: str, fn: object) -> str:
    """``name(param: Annotation, ...) -> Return``, with annotations as written."""
    sig = inspect.signature(fn)
    params = []
    for p in sig.parameters.values():
        text = p.name if p.annotation is inspect.Parameter.empty \
            else f"{p.name}: {_annotation(p.annotation)}"
        if p.default is not inspect.Parameter.empty:
            text += f" = {p.default!r}"
        params.append(text)
    result = "" if sig.return_annotation is inspect.Signature.empty \
        else f" -> {_annotation(sig.return_annotation)}"
    return f"{name}({', '.join(params)}){result}"


def undocumented(doc: str) -> list[str]:
    """Signatures of the hooks that ``doc`` does not show exactly."""
    return [text for text in (signature_text(n, f) for n, f in sorted(hook_functions().items()))
            if text not in doc]


def documented_names(doc: str) -> set[str]:
    """Hook names the page documents: each hook has a heading of its own."""
    return set(re.findall(r"^#{2,4} `?(creditcase_\w+)`?\s*$", doc, flags=re.MULTILINE))


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text("utf-8")


def test_there_are_hooks_to_document():
    names = set(hook_functions())
    assert {"creditcase_register_domains", "creditcase_check_channels",
            "creditcase_evaluate_check", "creditcase_before_decision",
            "creditcase_on_case_event"} <= names


def test_every_hook_is_documented_with_its_exact_signature(doc):
    missing = undocumented(doc)
    assert not missing, "docs/plugins.md lacks these hook signatures:\n" + "\n".join(missing)


def test_every_hook_has_its_own_heading_and_no_heading_names_a_missing_hook(doc):
    hooks = set(hook_functions())
    headings = documented_names(doc)
    assert hooks - headings == set(), f"hooks without a heading: {sorted(hooks - headings)}"
    assert headings - hooks == set(), f"documented hooks that do not exist: {sorted(headings - hooks)}"


def test_the_check_notices_a_changed_signature(doc):
    name, fn = "creditcase_evaluate_check", hook_functions()["creditcase_evaluate_check"]
    text = signature_text(name, fn)
    assert text == "creditcase_evaluate_check(case: Case, result: CheckResult) -> None"
    assert undocumented(doc.replace(text, text.replace("result: CheckResult", "result"))) == [text]
    assert undocumented(doc) == []
