"""Refuse, in the browser, an upload that is too large or empty, before it is sent.

A file input sends the whole file, base64-encoded, in one websocket message. Past the server's
message limit (Bokeh's default is 20 MB) the server drops the connection and the page dies with
no word said; a check on the server comes too late. The guard wraps the input's reader in the
page: a refused file is never read, and the server hears only its name, its size and why.

Plain Bokeh models only (a ``CustomJS`` run when the document is ready, a hidden ``Div`` that
carries the report back), so that any Bokeh client can read the page's document.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
from bokeh.models import CustomJS, Div

from explorer.app import untrusted

# The file input is found by its CSS class across Bokeh's shadow roots, as tests find widgets,
# and may render after the document is ready: look again for a while.
GUARD_JS = """
let tries = 0;
function install() {
  for (const doc of Bokeh.documents) {
    for (const model of doc.all_models) {
      if (!(model.css_classes && model.css_classes.includes(target))) continue;
      const view = Bokeh.index.find_one(model);
      if (view == null || view.load_files == null) continue;
      if (view.__guarded) return;
      const read = view.load_files.bind(view);
      view.load_files = async (files) => {
        const file = files.length === 1 ? files[0] : null;
        const reason = file == null ? "not one file" :
          file.size > limit ? "too large" : file.size === 0 ? "empty" : null;
        if (reason === null) return read(files);
        view.input_el.value = "";
        reporter.tags = [reason, file ? file.name.slice(0, 255) : "", file ? file.size : 0,
                         Date.now()];
      };
      view.__guarded = true;
      return;
    }
  }
  if (++tries < 100) setTimeout(install, 100);
}
install();
"""


def guard_uploads(target: str, limit: int, refused: Callable[[list], None]) -> pn.pane.Bokeh | None:
    """Guard the file input with CSS class ``target`` in this session's page.

    ``refused(report)`` is called with ``[reason, file name, size, time]`` as the browser sent
    it (untrusted). Returns the pane to lay out beside the input, or None where there is no
    page to guard (a script).
    """
    doc = pn.state.curdoc
    if doc is None:
        return None
    reporter = Div(visible=False, width=0, height=0, margin=0)
    untrusted.on_change(reporter, "tags", "upload guard", lambda _attr, _old, new: refused(new))
    args = {"reporter": reporter, "target": target, "limit": int(limit)}
    doc.js_on_event("document_ready", CustomJS(args=args, code=GUARD_JS))
    return pn.pane.Bokeh(reporter, width=0, height=0, margin=0)
