"""The layers of docs/design.md, checked on the source (issue 20).

Every module of the project is parsed (``ast``, so imports inside functions count too) and:
- an app imports only its own layer's modules and lower layers' (``core`` imports no domain app);
- no import cycle joins modules of different apps (strongly connected components of the graph of
  every import, wherever it is written).
``cqpm`` (settings, URL wiring, Celery) sits above every app, ``bench`` (development only) above all.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Rank of each app: an app may import an app of a lower rank, never one of a higher or the same rank.
LAYERS = {
    "core": 0,
    "referential": 1,
    "candidates": 2,
    "evaluations": 3,
    "deliberations": 4,
    "reporting": 5,
    "people": 5,
    "cqpm": 6,
    "bench": 7,
}
PROJECT_DIRS = list(LAYERS)


def project_modules():
    """{module name: path} for every Python file of the project's packages (migrations left out)."""
    modules = {}
    for package in PROJECT_DIRS:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).with_suffix("")
            if "migrations" in relative.parts:
                continue
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported_names(module, path, modules):
    """The project modules ``module`` imports, with the line of each import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            # `from x import y` imports the module x.y when it is one, else the name y of x.
            targets = [
                f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in modules else prefix
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import a.b.c` of a non-module attribute
                target = target.rpartition(".")[0]
            if target:
                found.append((target, node.lineno))
    return found


def import_graph():
    modules = project_modules()
    return {module: imported_names(module, path, modules) for module, path in modules.items()}


def app_of(module):
    return module.split(".", 1)[0]


def test_the_walker_sees_imports_inside_functions():
    modules = project_modules()
    assert "core.services" in modules and "tests" not in {app_of(m) for m in modules}
    graph = import_graph()
    assert any(target == "core.models" for target, _line in graph["core.services"])


def test_no_app_imports_a_higher_or_sibling_layer():
    violations = []
    for module, imports in import_graph().items():
        app = app_of(module)
        for target, line in imports:
            other = app_of(target)
            if other != app and LAYERS[other] >= LAYERS[app]:
                violations.append(f"{module}:{line} imports {target} ({app} may not import {other})")
    assert not violations, "\n".join(violations)


def test_core_imports_no_domain_app():
    graph = import_graph()
    domain = {app for app in LAYERS if app != "core"}
    leaks = [
        f"{module}:{line} → {target}"
        for module, imports in graph.items()
        if app_of(module) == "core"
        for target, line in imports
        if app_of(target) in domain
    ]
    assert not leaks, "\n".join(leaks)


def strongly_connected(graph):
    """Tarjan's algorithm, iterative: the components of more than one module."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(component)
    return components


def test_no_import_cycle_between_apps():
    graph = {module: {target for target, _line in imports} for module, imports in import_graph().items()}
    crossing = [
        sorted(component)
        for component in strongly_connected(graph)
        if len({app_of(module) for module in component}) > 1
    ]
    assert not crossing, "\n".join(" ↔ ".join(component) for component in crossing)


def test_the_cycle_finder_finds_cycles():
    graph = {"a.x": {"b.y"}, "b.y": {"a.x"}, "c.z": {"a.x"}}
    assert strongly_connected(graph) == [{"a.x", "b.y"}]


# --- views (issue 20): one way to fetch an object and to check a permission ---------------------

VIEW_APPS = [app for app in LAYERS if app not in ("cqpm", "bench")]
# Private re-implementations of `get_object_or_404` / `core.views_kit.require_permission`.
FORBIDDEN_VIEW_HELPERS = {"_get", "get_or_404", "_require", "_check", "fail"}


def view_modules():
    """Every view module of the apps: views.py, *_views.py and the modules of a views/ package."""
    paths = []
    for app in VIEW_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            if path.name == "views.py" or path.name.endswith("_views.py") or "views" in relative.parts[:-1]:
                paths.append(path)
    return paths


def view_shortcuts(path):
    """What a view module does instead of the shared helpers: (line, description)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in FORBIDDEN_VIEW_HELPERS:
            found.append((node.lineno, f"defines {node.name}()"))
        elif isinstance(node, ast.ExceptHandler) and node.type is not None:
            names = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            if any(isinstance(name, ast.Attribute) and name.attr == "DoesNotExist" for name in names):
                found.append((node.lineno, "catches DoesNotExist (use get_object_or_404 on the selector)"))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "has_perm"
            and isinstance(node.func.value, ast.Attribute | ast.Name)
            and getattr(node.func.value, "attr", getattr(node.func.value, "id", "")) == "user"
        ):
            found.append((node.lineno, "calls user.has_perm (use require_permission)"))
    return found


def test_the_view_scan_sees_the_shortcuts(tmp_path):
    sample = tmp_path / "views.py"
    sample.write_text(
        "def _get(qs, **kw):\n"
        "    try:\n"
        "        return qs.get(**kw)\n"
        "    except qs.model.DoesNotExist:\n"
        "        raise Http404\n"
        "def v(request, obj):\n"
        "    return request.user.has_perm('a.b', obj)\n",
        encoding="utf-8",
    )
    assert [line for line, _what in view_shortcuts(sample)] == [1, 4, 7]
    assert any(path.name == "staff.py" and path.parent.name == "views" for path in view_modules())


def test_views_use_the_shared_lookup_and_permission_helpers():
    problems = [
        f"{path.relative_to(ROOT)}:{line} {what}"
        for path in view_modules()
        for line, what in view_shortcuts(path)
    ]
    assert not problems, "\n".join(problems)


def test_no_view_module_imports_another_apps_views():
    """Views are entry points: what two apps' views share lives in a module of the lower app
    (e.g. deliberations.downloads for the candidate's own documents), never in its views."""
    graph = import_graph()
    modules = project_modules()
    view_module_names = {name for name, path in modules.items() if path in set(view_modules())}
    crossings = [
        f"{module}:{line} imports {target}"
        for module in view_module_names
        for target, line in graph[module]
        if target in view_module_names and app_of(target) != app_of(module)
    ]
    assert not crossings, "\n".join(crossings)
