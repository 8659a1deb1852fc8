"""examples/explorer.ipynb runs top to bottom in a real Jupyter kernel, without an error."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

PANEL_VIEW = "application/vnd.holoviews_exec.v0+json"  # the mime type of a live Panel view
NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "explorer.ipynb"
# jupyter_client runs a kernel spec whose command is one of these with this very interpreter.
PYTHON_NAMES = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info)}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def outputs(cell) -> list:
    return cell.get("outputs", [])


def stdout(cell) -> str:
    streams = [o for o in outputs(cell) if o.output_type == "stream" and o.name == "stdout"]
    return "".join(o.text for o in streams)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook after a run in a python3 kernel, with its folder and TMPDIR in a scratch dir."""
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] in PYTHON_NAMES | {sys.executable}, (
        f"the python3 kernel runs {spec.argv[0]}, not this environment's Python: "
        f"{sys.executable} -m ipykernel install --sys-prefix"
    )
    tmp = tmp_path_factory.mktemp("notebook")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=180,
        resources={"metadata": {"path": str(tmp)}},
    )
    client.execute(env={**os.environ, "TMPDIR": str(tmp)})
    return notebook, tmp


def code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def cell_with(notebook, source: str):
    matches = [cell for cell in code_cells(notebook) if source in cell.source]
    assert len(matches) == 1, source
    return matches[0]


def test_every_cell_ran_without_an_error(executed):
    notebook, _ = executed
    cells = code_cells(notebook)
    assert len(cells) >= 8
    for cell in cells:
        assert cell.execution_count is not None, cell.source
        for output in outputs(cell):
            assert output.output_type != "error", f"{output.ename}: {output.evalue}"
            if output.output_type == "stream" and output.name == "stderr":
                assert "Traceback" not in output.text and "Error" not in output.text, output.text


def test_the_explorer_is_shown_inline(executed):
    notebook, _ = executed
    results = [o for o in outputs(cell_with(notebook, "explorer = LatentExplorer(")) if "data" in o]
    shown = [o for o in results if o.output_type == "execute_result"]
    assert len(shown) == 1
    assert PANEL_VIEW in shown[0].data
    assert "text/html" in shown[0].data
    views = cell_with(notebook, "pn.Row(image_element(")
    assert any(PANEL_VIEW in o.get("data", {}) for o in outputs(views))


def test_it_needs_no_network(executed):
    """BokehJS and Panel's JavaScript come inline from the kernel: no CDN to reach (offline)."""
    notebook, _ = executed
    text = json.dumps([outputs(cell) for cell in code_cells(notebook)])
    for host in ("cdn.bokeh.org", "cdn.holoviz.org"):
        assert host not in text
    assert "BEGIN bokeh.min.js" in text


def test_the_api_cells_printed_what_they_claim(executed):
    notebook, tmp = executed
    assert "fashion-mnist-beta1 12" in stdout(cell_with(notebook, "checkpoint.load("))
    assert "(28, 28) float32" in stdout(cell_with(notebook, "z, image = model.z, model.image"))
    assert stdout(cell_with(notebook, "decode_image(loaded.model")).strip() == "0.0"
    saved = stdout(cell_with(notebook, "static.export_html(")).splitlines()
    assert saved[1] == "True"  # the state gave the same image back
    page = tmp / "explorer-z.html"
    assert saved[2] == f"{page}: {page.stat().st_size:,} bytes"
    assert "latent-image-source" in page.read_text(encoding="utf-8")


def test_served_only_code_is_guarded():
    cell = cell_with(nbformat.read(NOTEBOOK, as_version=4), ".servable()")
    assert cell.source.startswith("if pn.state.served:")


def test_a_live_module_is_explored_inline(executed):
    notebook, _ = executed
    cell = cell_with(notebook, "LatentModel.of(TinyVAE()")
    assert stdout(cell).strip() == "module 4 (1, 28, 28) (28, 28)"
    assert any(PANEL_VIEW in o.get("data", {}) for o in outputs(cell))
