"""Every error code a service can raise is in the schema of each operation that can raise it.

The operation's view method is parsed, and so is every function it calls, transitively:
the view module's helpers, the view's own methods and the licensing app's functions
(services, selectors, sales, terms...). A function that names `LicensingErrorCode.X`
can raise `x` (naming a code is how a service raises one, directly or through a helper
such as `invalid(...)`); the codes reached must all be documented on the operation,
so a client reading the schema knows every answer to handle (issue 12: the 503
`payment_provider_unavailable` of a purchase was missing).
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.urls import resolve

from licensing.errors import LicensingErrorCode

pytestmark = pytest.mark.django_db

LICENSING = Path(__file__).resolve().parents[3] / "licensing"
HTTP_METHODS = ("get", "post", "patch", "put", "delete")
_DOCUMENTED_CODE = re.compile(r"`([a-z_]+)`")


def _functions(tree: ast.Module | ast.ClassDef) -> Iterator[ast.FunctionDef]:
    """The functions defined at the top of a module, or the methods of a class."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node


@functools.cache
def _licensing_index() -> dict[str, list[ast.FunctionDef]]:
    """Every function of the licensing app outside its API, by name."""
    index: dict[str, list[ast.FunctionDef]] = {}
    for path in LICENSING.rglob("*.py"):
        if {"api", "migrations", "admin", "management"} & set(path.relative_to(LICENSING).parts):
            continue
        for function in _functions(ast.parse(path.read_text())):
            index.setdefault(function.name, []).append(function)
    return index


def _called_names(function: ast.FunctionDef) -> tuple[set[str], set[str]]:
    """The names the function calls as functions, and as methods of `self`."""
    names, own_methods = set(), set()
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name):
            names.add(node.func.id)
        elif isinstance(node.func, ast.Attribute):
            called_on = node.func.value
            if isinstance(called_on, ast.Name) and called_on.id == "self":
                own_methods.add(node.func.attr)
            else:
                names.add(node.func.attr)  # `services.work_create`, `selectors.work_get`
    return names, own_methods


def _named_codes(function: ast.FunctionDef) -> set[str]:
    return {
        LicensingErrorCode[node.attr].value
        for node in ast.walk(function)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "LicensingErrorCode"
    }


Functions = dict[str, list[ast.FunctionDef]]


def _codes_reached(
    start: ast.FunctionDef, module_functions: Functions, methods: Functions | None = None
) -> set[str]:
    """The codes named by `start` and by every function it calls, transitively."""
    seen: set[int] = set()
    pending, codes = [start], set()
    while pending:
        function = pending.pop()
        if id(function) in seen:
            continue
        seen.add(id(function))
        codes |= _named_codes(function)
        names, own_methods = _called_names(function)
        for name in names:
            pending.extend(module_functions.get(name, []) + _licensing_index().get(name, []))
        for name in own_methods:
            pending.extend((methods or {}).get(name, []))
    return codes


def _by_name(functions: Iterator[ast.FunctionDef]) -> Functions:
    found: Functions = {}
    for function in functions:
        found.setdefault(function.name, []).append(function)
    return found


def _view_functions(view_class: type) -> tuple[Functions, Functions]:
    """The view module's own functions, and the methods of the class and its bases."""
    module = ast.parse(inspect.getsource(inspect.getmodule(view_class)))
    methods: list[ast.FunctionDef] = []
    for cls in view_class.__mro__:
        if cls.__module__.startswith("licensing."):
            (class_def,) = ast.parse(textwrap.dedent(inspect.getsource(cls))).body
            methods.extend(_functions(class_def))
    return _by_name(_functions(module)), _by_name(iter(methods))


def _operations() -> Iterator[tuple[str, str, dict]]:
    schema = Client().get("/api/v1/schema/", {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def _documented_codes(operation: dict) -> set[str]:
    return {
        code
        for status, response in operation["responses"].items()
        if status[0] in "45"
        for code in _DOCUMENTED_CODE.findall(response.get("description", ""))
    }


def _handler(path: str, method: str) -> tuple[type, ast.FunctionDef]:
    concrete = re.sub(r"\{[^}]+\}", "x", path)
    view_class = resolve(concrete).func.view_class
    source = textwrap.dedent(inspect.getsource(getattr(view_class, method)))
    (handler,) = [node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
    return view_class, handler


def test_every_code_an_operation_can_raise_is_in_its_schema() -> None:
    missing = {}
    for path, method, operation in _operations():
        view_class, handler = _handler(path, method)
        reached = _codes_reached(handler, *_view_functions(view_class))
        undocumented = reached - _documented_codes(operation)
        if undocumented:
            missing[f"{method.upper()} {path}"] = sorted(undocumented)
    assert missing == {}


def test_the_test_sees_a_code_raised_two_calls_deep(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """
        def view_post(request):
            return helper(request)

        def helper(request):
            return license_purchase(organization=None, offer_id="x", work_ids=None)
        """
    )
    functions = _by_name(_functions(ast.parse(source)))

    reached = _codes_reached(functions["view_post"][0], functions)

    assert "payment_provider_unavailable" in reached
    assert "payment_failed" in reached
