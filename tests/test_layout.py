"""The house rules the package layout states (README, "How it is built"), checked on the source:
which folders may import Panel, HoloViews or Bokeh, which way the sub-packages depend on each
other, and that package files do no work."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "explorer"
# Folders that draw no plots: no Panel, HoloViews or Bokeh, so plain tests and the CLI reach them.
PLAIN = ("latent", "compute", "data", "figures")


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(folder: str = "") -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def uses(path: Path, top: str) -> bool:
    return any(name == top or name.startswith(f"{top}.") for name in imports(path))


def test_only_app_imports_panel():
    outside = [p.relative_to(PACKAGE) for p in modules() if uses(p, "panel")]
    assert all(p.parts[0] == "app" for p in outside), outside


@pytest.mark.parametrize("folder", PLAIN)
def test_plain_folders_import_no_plotting_library(folder):
    for path in modules(folder):
        for library in ("panel", "holoviews", "bokeh"):
            assert not uses(path, library), f"{path.relative_to(PACKAGE)} imports {library}"


def test_only_the_cli_and_the_app_reach_into_the_app():
    """The app sits on top: nothing below it imports it, and it imports no command line."""
    for path in modules():
        where = path.relative_to(PACKAGE).parts[0]
        if where not in ("app", "cli"):
            assert not uses(path, "explorer.app"), path.relative_to(PACKAGE)
        if where == "app":
            assert not uses(path, "explorer.cli"), path.relative_to(PACKAGE)


def test_package_files_hold_a_docstring_at_most():
    for path in PACKAGE.rglob("__init__.py"):
        body = ast.parse(path.read_text()).body
        if path.parent.name == "zoo":  # the zoo's catalogue is its package
            continue
        docstring = [
            n for n in body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
        ]
        others = [n for n in body if n not in docstring]
        assert not others or (path == PACKAGE / "__init__.py" and _only_version(others)), path


def _only_version(nodes) -> bool:
    return all(
        isinstance(n, ast.Assign) and [t.id for t in n.targets] == ["__version__"] for n in nodes
    )


def test_the_command_line_parses_without_torch_or_panel():
    """``--help`` and usage errors answer at once: the parser imports neither."""
    code = (
        "import sys, explorer.cli.main; "
        "print(sorted(m for m in ('torch', 'panel', 'holoviews', 'bokeh') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_code_is_imported_by_name_only_from_the_operators_command_line():
    """formats.module.import_factory imports the --model the operator named; nothing that reads
    a browser's input may call it (nor import modules by name at all)."""
    operators = {Path("cli/serve.py"), Path("app/server.py")}
    for path in modules():
        text = path.read_text()
        where = path.relative_to(PACKAGE)
        if where != Path("formats/module.py"):
            assert "import_module(" not in text and "__import__(" not in text, where
        if "import_factory(" in text and where != Path("formats/module.py"):
            assert where in operators, where
