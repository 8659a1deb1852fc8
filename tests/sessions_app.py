"""A Bokeh app that tests serve beside the explorer: how many sessions of other apps the server
still holds (not yet discarded), as JSON in a Div named ``sessions``.

    panel serve apps/explorer.py tests/sessions_app.py ...
"""

import gc
import json

from bokeh.io import curdoc
from bokeh.models import Div
from bokeh.server.session import ServerSession

NAME = "sessions"


def live_sessions() -> int:
    """ServerSessions not yet destroyed, less this app's own."""
    return sum(
        1
        for obj in gc.get_objects()
        if type(obj) is ServerSession  # not isinstance: some torch objects warn when asked
        and not obj.destroyed
        and not any(root.name == NAME for root in obj.document.roots)
    )


curdoc().add_root(Div(text=json.dumps({"live": live_sessions()}), name=NAME))
