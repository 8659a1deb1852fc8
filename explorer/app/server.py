"""One browser session's page of the served explorer (create_app, called by apps/explorer.py)
and the server that hands each session one (serve, called by ``vae-explorer serve``)."""

from __future__ import annotations

import gc
import os

import panel as pn
import torch
from bokeh.settings import settings as bokeh_settings

from explorer.access import CheckpointAccess
from explorer.app import internals, turns
from explorer.app.explorer import LatentExplorer
from explorer.app.options import TITLE, AppOptions, default_checkpoint
from explorer.formats import module
from explorer.latent.space import LatentModel

YOUNG_COLLECTION_THRESHOLD = 10_000  # allocations between young passes (Python's default 700)


def create_app(options: AppOptions) -> pn.template.BaseTemplate:
    """One session's page: a fresh LatentModel and its view, state read from the URL."""
    torch.set_num_threads(1)  # one small decode per event; threads would only contend
    internals.mend_patch_curdoc()  # once per process; see there
    collect_garbage_less_often()
    skip_document_validation()
    turns.take_turns(pn.state.curdoc)  # once per process; see there
    pn.extension(notifications=False)
    source = options.model or options.checkpoint or default_checkpoint()
    # The operator's checkpoint is trusted: it always opens, and visitors see only its name.
    access = CheckpointAccess.confined(options.checkpoint_dirs, options.zoo_only, trusted=[source])
    models = None
    if options.model:  # the operator's own code: imported once per process, shared read-only
        loaded = module.import_factory(options.model, options.weights, options.model_output)
        models = {options.model: loaded}
    model = LatentModel(
        checkpoint=source,
        access=access,
        models=models,
        max_upload_bytes=max(1, int(options.max_upload_mb * 2**20)),
    )
    explorer = LatentExplorer(model, data_dir=options.data_dir)
    if pn.state.location is not None:
        explorer.sync_url(pn.state.location)
    return explorer.template()


def collect_garbage_less_often() -> None:
    """Run the garbage collector's passes a fifteenth as often, in this process.

    Building a session allocates ≈ 27,000 objects, so Python's default young threshold (700)
    ran ≈ 40 young passes an open and a full pass every few opens; a full pass walks every
    object of torch, Panel, Bokeh and HoloViews (≈ 650,000) and took ≈ 0.25 s. At 10,000 the
    collector's time per open went from ≈ 55 ms to ≈ 12 ms (benchmarks/README.md, #19); what
    a cycle holds waits at most 10,000 allocations longer to be freed."""
    young, *older = gc.get_threshold()
    if young < YOUNG_COLLECTION_THRESHOLD:
        gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *older)


def skip_document_validation() -> None:
    """Leave out Bokeh's integrity checks of each new session's document, in this process.

    They look for a developer's mistakes (a plot without renderers, a layout without children)
    in a page that is the same for every session, and cost ≈ 35 ms of every page open
    (benchmarks/README.md, #19). ``tests/app/test_page_open.py`` runs them on the page instead.
    Bokeh's public setting, set for the process unless the operator set ``BOKEH_VALIDATE_DOC``
    (a value set here would win over it)."""
    if "BOKEH_VALIDATE_DOC" not in os.environ:
        bokeh_settings.perform_document_validation.set_value(False)


def serve(options: AppOptions, *, port: int, address: str, origins: list[str], **server) -> None:
    """Serve the explorer at ``/`` until stopped; ``server`` holds Bokeh server settings
    (num_procs, session lifetimes, show).

    Sessions are reused (``panel serve --reuse-sessions``): a page's GET is answered with the
    page of one session cached per process, and the visitor's own session is built when its
    websocket connects, from that request's URL (the state in its query). So a session is built
    once, in the process that serves it, even where another process answered the GET, and a
    burst of GETs does not queue behind the builds (benchmarks/README.md, #19). The page holds
    only the template's skeleton, the same for every session."""
    pn.config.reuse_sessions = True
    pn.serve(
        {"/": lambda: create_app(options)},
        # An upload travels base64-encoded in one websocket message: leave room for it.
        websocket_max_message_size=int(options.max_upload_mb * 2**20 * 1.5) + 2**20,
        port=port,
        address=address,
        websocket_origin=origins,
        title=TITLE,
        print=False,
        **server,
    )
