"""A debug page served beside the app under load: what the server process still holds.

bokeh serve benchmarks/reference_app.py benchmarks/probe_app.py   (or panel serve ...)

Each session runs ``gc.collect()`` and shows, as JSON in a Div named ``probe``, the live
sessions, documents and explorer objects of the *other* apps, and the process RSS; with
``?trim=1`` it also calls glibc's ``malloc_trim(0)`` and shows the RSS after it. Used by
benchmarks/load.py to check that closed sessions are really freed; nothing of the explorer's
own code is involved.
"""

import ctypes
import gc
import json
import os
from pathlib import Path

from bokeh.document import Document
from bokeh.io import curdoc
from bokeh.models import Div
from bokeh.server.session import ServerSession

NAME = "probe"
EXPLORER_TYPES = ("LatentModel", "LatentExplorer", "DimensionSliders")


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def is_probe(document: Document) -> bool:
    return any(root.name == NAME for root in document.roots)


def destroyed(document: Document) -> bool:
    """Bokeh deletes a destroyed document's roots; a discarded session's last references may
    still hold one for a moment."""
    try:
        return document.roots is None
    except AttributeError:
        return True


def census(own: Document) -> dict:
    counts = dict.fromkeys(EXPLORER_TYPES, 0)
    sessions = connected = documents = gone = 0
    for obj in gc.get_objects():
        kind = type(obj)  # not isinstance: some torch objects warn when asked for __class__
        if kind.__name__ in counts:
            counts[kind.__name__] += 1
        elif kind is ServerSession and (destroyed(obj.document) or not is_probe(obj.document)):
            sessions += 1
            connected += obj.connection_count > 0
        elif kind is Document and obj is not own and destroyed(obj):
            gone += 1
        elif kind is Document and obj is not own and not is_probe(obj):
            documents += 1
    found = {"sessions": sessions, "connected": connected, "documents": documents}
    return counts | found | {"destroyed_documents": gone}


def main() -> None:
    doc = curdoc()
    collected = gc.collect()
    result = {"pid": os.getpid(), "collected": collected, "objects": len(gc.get_objects())}
    result["rss_mb"] = rss_mb()
    result |= census(doc)
    if doc.session_context.request.arguments.get("trim") == [b"1"]:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        result["rss_after_trim_mb"] = rss_mb()
    doc.add_root(Div(text=json.dumps(result), name=NAME))


main()
