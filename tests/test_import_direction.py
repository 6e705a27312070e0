"""Imports point one way: payouts -> licensing -> ledger; config and the sandbox import no app.

Every module of the apps is parsed (not imported), so an import inside a function, a
method or an `if TYPE_CHECKING:` block counts as much as one at the top. Also pinned:
only `payouts/stripe/` imports the Stripe SDK, and an Accord module imported inside a
function says why on that line or the one above (a cycle, or `AppConfig.ready()`,
which runs once the app registry is loaded).
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
# An app may import the apps at or below its own rank.
APP_RANKS = {"ledger": 0, "licensing": 1, "payouts": 2}
# Packages that import none of the apps: the project layer and the stand-alone sandbox.
NO_APP_PACKAGES = ("config", "stripe_sandbox")
FIRST_PARTY = (*APP_RANKS, *NO_APP_PACKAGES)
STRIPE_SDK_HOME = "payouts/stripe/"
# The alias shims of issue 12, deleted once every caller had moved: the old path and
# where its code lives now. Neither the module nor an import of it may come back.
REMOVED_MODULES = {
    "licensing.admin_licensees": "licensing.admin.licensees",
    "licensing.api_keys": "licensing.services.api_keys, licensing.selectors.api_keys",
    "licensing.licenses": "licensing.services.licenses, licensing.selectors.licenses",
    "licensing.organizations": "licensing.services.organizations",
    "licensing.payments": "licensing.services.card_payments",
    "licensing.purchases": "licensing.services.purchases",
    "payouts.card_payments": "payouts.stripe.card_payments",
    "payouts.payment_events": "payouts.stripe.handlers",
    "payouts.stripe_gateway": "payouts.stripe.gateway, .errors, .results",
    "payouts.views": "payouts.stripe.views",
    "payouts.webhooks": "payouts.stripe.webhooks",
}
# Trees that may import the apps but never a removed path.
CALLER_PACKAGES = (*FIRST_PARTY, "tests", "bench")


@dataclass(frozen=True)
class ImportSite:
    path: str  # relative to the root, with "/"
    line: int
    target: str  # the dotted module imported
    in_function: bool
    explained: bool  # a comment on the import's line or the line above


def _module_name(relative: Path) -> list[str]:
    parts = list(relative.with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _targets(node: ast.Import | ast.ImportFrom, relative: Path) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not node.level:
        return [node.module or ""]
    package = _module_name(relative)
    if relative.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - node.level + 1]
    if node.module:
        return [".".join([*base, node.module])]
    return [".".join([*base, alias.name]) for alias in node.names]  # from .. import x


def _sites(path: Path, root: Path) -> Iterator[ImportSite]:
    relative = path.relative_to(root)
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source, filename=str(path))
    parents: dict[ast.AST, ast.AST] = {
        child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)
    }
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        ancestor, in_function = node, False
        while ancestor in parents and not in_function:
            ancestor = parents[ancestor]
            in_function = isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef))
        nearby = lines[max(node.lineno - 2, 0) : node.lineno]
        for target in _targets(node, relative):
            yield ImportSite(
                relative.as_posix(),
                node.lineno,
                target,
                in_function,
                any("#" in line for line in nearby),
            )


def import_violations(root: Path) -> list[str]:
    """Every import under `root` that breaks the layering, as `path:line: why`."""
    found = []
    for package in FIRST_PARTY:
        for path in sorted((root / package).rglob("*.py")):
            for site in _sites(path, root):
                top = site.target.split(".")[0]
                where = f"{site.path}:{site.line}: imports {site.target}"
                if package in APP_RANKS and APP_RANKS.get(top, -1) > APP_RANKS[package]:
                    found.append(f"{where}, upward from {package}")
                if package in NO_APP_PACKAGES and top in APP_RANKS:
                    found.append(f"{where}, but {package} imports no app")
                if top == "stripe" and not site.path.startswith(STRIPE_SDK_HOME):
                    found.append(f"{where}, but only {STRIPE_SDK_HOME} talks to Stripe")
                if site.in_function and top in FIRST_PARTY and not site.explained:
                    found.append(f"{where} inside a function, without saying why")
    return sorted(found)


def _imported_paths(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """Each dotted path an import names: `from payouts import webhooks` names both
    `payouts` and `payouts.webhooks`, since either may be a module."""
    relative = path.relative_to(root)
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            for module in _targets(node, relative):
                yield node.lineno, module
                if node.module:  # else `_targets` already named `from .. import x` as `..x`
                    yield from ((node.lineno, f"{module}.{a.name}") for a in node.names)


def _removed(target: str) -> str | None:
    return next((old for old in REMOVED_MODULES if f"{target}.".startswith(f"{old}.")), None)


def removed_module_uses(root: Path) -> list[str]:
    """Every removed shim still on disk, and every import of one, as `path[:line]: why`."""
    found = []
    for old, new in REMOVED_MODULES.items():
        relative = Path(*old.split("."))
        for candidate in (relative.with_suffix(".py"), relative / "__init__.py"):
            if (root / candidate).exists():
                found.append(f"{candidate.as_posix()}: {old} was removed; its code is in {new}")
    for package in CALLER_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            for line, target in _imported_paths(path, root):
                old = _removed(target)
                if old is not None:
                    where = f"{path.relative_to(root).as_posix()}:{line}: imports {old}"
                    found.append(f"{where}, removed; import {REMOVED_MODULES[old]}")
    return sorted(set(found))


# Packages whose names are imported from their entity modules, never from the package.
ENTITY_PACKAGES = ("services", "selectors")


def reexport_violations(root: Path) -> list[str]:
    """Each services or selectors package that re-exports, and any `import *`: `path:line: why`.

    One import path per name: `from licensing.services.works import work_create`,
    never `from licensing import services; services.work_create`.
    """
    found = []
    for package in APP_RANKS:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            tree = ast.parse(path.read_text(), filename=relative)
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                    found.append(f"{relative}:{node.lineno}: imports * from {node.module}")
            if path.name != "__init__.py" or path.parent.name not in ENTITY_PACKAGES:
                continue
            body = tree.body[1:] if tree.body and isinstance(tree.body[0], ast.Expr) else tree.body
            found += [
                f"{relative}:{node.lineno}: the package re-exports; import the entity's module"
                for node in body
            ]
    return sorted(found)


def test_imports_point_payouts_to_licensing_to_ledger_and_config_imports_no_app() -> None:
    assert import_violations(REPOSITORY) == []


def test_services_and_selectors_packages_re_export_nothing() -> None:
    assert reexport_violations(REPOSITORY) == []


def test_the_test_finds_a_re_exporting_package_and_a_star_import(tmp_path: Path) -> None:
    _plant(tmp_path, "licensing/services/__init__.py", '"""Writes."""\n\nfrom .works import *\n')
    _plant(tmp_path, "payouts/selectors/__init__.py", "from payouts.selectors.earnings import x\n")
    _plant(tmp_path, "ledger/selectors.py", '"""Reads."""\n')
    _plant(tmp_path, "licensing/models/__init__.py", "from licensing.models.base import Base\n")

    assert reexport_violations(tmp_path) == [
        "licensing/services/__init__.py:3: imports * from works",
        "licensing/services/__init__.py:3: the package re-exports; import the entity's module",
        "payouts/selectors/__init__.py:1: the package re-exports; import the entity's module",
    ]


def test_the_removed_shim_modules_are_gone_and_nothing_imports_them() -> None:
    assert removed_module_uses(REPOSITORY) == []
    for old in REMOVED_MODULES:
        assert importlib.util.find_spec(old) is None, old


def _plant(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)


def test_the_test_finds_an_upward_import_even_inside_a_function(tmp_path: Path) -> None:
    _plant(tmp_path, "ledger/services.py", "from ledger.models import Account\n")
    _plant(
        tmp_path,
        "licensing/services/usage.py",
        "from ledger.services import transaction_post\n\n\n"
        "def usage_ingest():\n    from payouts.models import StripeEvent\n",
    )
    _plant(tmp_path, "licensing/selectors/works.py", "from ..models import Work\n")
    _plant(tmp_path, "payouts/stripe/gateway.py", "import stripe\nfrom licensing import models\n")

    assert import_violations(tmp_path) == [
        "licensing/services/usage.py:5: imports payouts.models inside a function,"
        " without saying why",
        "licensing/services/usage.py:5: imports payouts.models, upward from licensing",
    ]


def test_the_test_finds_config_importing_an_app_and_stripe_outside_its_package(
    tmp_path: Path,
) -> None:
    _plant(tmp_path, "config/api/authentication.py", "from licensing.selectors import api_keys\n")
    _plant(tmp_path, "licensing/payments.py", "import stripe\n")
    _plant(tmp_path, "ledger/selectors.py", "from . import models\nfrom .. import payouts\n")

    assert import_violations(tmp_path) == [
        "config/api/authentication.py:1: imports licensing.selectors, but config imports no app",
        "ledger/selectors.py:2: imports payouts, upward from ledger",
        "licensing/payments.py:1: imports stripe, but only payouts/stripe/ talks to Stripe",
    ]


def test_the_test_finds_a_removed_shim_on_disk_and_each_way_of_importing_one(
    tmp_path: Path,
) -> None:
    _plant(tmp_path, "payouts/webhooks/__init__.py", "from payouts.stripe.webhooks import *\n")
    _plant(
        tmp_path,
        "tests/licensing/test_x.py",
        "from licensing import purchases\nimport licensing.api_keys\n\n\n"
        "def test_x():\n    from payouts.stripe_gateway import GatewayError\n",
    )
    _plant(tmp_path, "payouts/stripe/handlers.py", "from .. import payment_events\n")
    _plant(tmp_path, "bench/api.py", "from licensing.services import purchases\n")

    assert removed_module_uses(tmp_path) == [
        "payouts/stripe/handlers.py:1: imports payouts.payment_events, removed;"
        " import payouts.stripe.handlers",
        "payouts/webhooks/__init__.py: payouts.webhooks was removed;"
        " its code is in payouts.stripe.webhooks",
        "tests/licensing/test_x.py:1: imports licensing.purchases, removed;"
        " import licensing.services.purchases",
        "tests/licensing/test_x.py:2: imports licensing.api_keys, removed;"
        " import licensing.services.api_keys, licensing.selectors.api_keys",
        "tests/licensing/test_x.py:6: imports payouts.stripe_gateway, removed;"
        " import payouts.stripe.gateway, .errors, .results",
    ]
