"""Every use of a Panel or Bokeh internal, in one place: each is pinned by a test
(``tests/app/test_internals.py``) that fails if the library changes shape, and pyproject bounds
panel and bokeh to the releases it was checked against (panel 1.9.4, bokeh 3.9.2).

Each is here because the public route was measured too slow or cannot do it:

- :class:`BoundedIntInput` overrides Panel's ``_process_property_change``: the one hook between a
  client's message and param, where a value param would refuse with a logged traceback.
- :func:`text_model` and :func:`write_text` use Panel's HTML *Bokeh model* directly, which holds
  escaped HTML: the ``pn.pane.HTML`` around it cost ~2 ms of server time per change, a Bokeh
  ``Div`` ~3 ms of the browser's.
- :func:`mend_patch_curdoc` replaces Bokeh's ``patch_curdoc`` and uses its ``_PATCHED_CURDOCS``.
"""

from __future__ import annotations

import contextlib
import html
import math
import weakref

import panel as pn
from panel.models import HTML

from explorer.app import untrusted
from explorer.latent.vector import finite


class BoundedIntInput(pn.widgets.IntInput):
    """An IntInput that refuses what its box never sends (NaN, 1e308, 2.5, an empty box, a number
    outside start–end): one log line, and the box shows its value again.

    A plain IntInput hands such a value to param, whose error Panel logs with a traceback, and
    the box keeps showing it.
    """

    def _process_property_change(self, msg):
        params = super()._process_property_change(msg)
        if "value" in params:
            value = self._checked(params["value"])
            if value is None:
                why = f"not an integer in [{self.start}, {self.end}]"
                untrusted.refused(f"{self.name} input", params["value"], why)
                del params["value"]
                self.param.trigger("value")  # show the value it has
            else:
                params["value"] = value  # 7.0 as 7
        return params

    def _checked(self, value) -> int | None:
        """``value`` as an int within start–end, or None."""
        number = finite(value)
        if number is None or not number.is_integer():
            return None
        low = self.start if self.start is not None else -math.inf
        high = self.end if self.end is not None else math.inf
        return int(number) if low <= number <= high else None


def text_model(**params) -> HTML:
    """A Bokeh model that shows HTML, for :func:`write_text`; lay it out in a ``pn.pane.Bokeh``.

    Scripts and maths off: it shows text the app wrote, never runs it. A fixed height in
    ``params`` lets a change repaint without re-laying out the page."""
    return HTML(run_scripts=False, disable_math=True, **params)


def write_text(model: HTML, markup: str) -> None:
    """Show ``markup`` (HTML the app wrote, with anything from outside escaped already) in a
    :func:`text_model`. The model takes HTML escaped once more, as Panel's pane sends it."""
    model.text = html.escape(markup)


def mend_patch_curdoc() -> None:
    """Make Bokeh restore ``curdoc()`` even when what it ran inside ``patch_curdoc`` raised.

    Bokeh applies a browser's patch inside ``patch_curdoc`` too, before any callback of ours: a
    patch that fails Bokeh's own type check (a string as a slider's value) left that session's
    Document on the stack for every later ``curdoc()`` in the process. Bokeh 3.9's function
    pushes a weak reference and pops it after the ``yield`` only; this one pops it in a
    ``finally``.
    """
    import bokeh.io.doc as bokeh_doc

    if getattr(bokeh_doc.patch_curdoc, "mended", False):
        return
    stack = bokeh_doc._PATCHED_CURDOCS

    @contextlib.contextmanager
    def patch_curdoc(doc):
        stack.append(weakref.ref(doc))
        del doc
        try:
            yield
        finally:
            stack.pop()

    patch_curdoc.mended = True
    bokeh_doc.patch_curdoc = patch_curdoc
