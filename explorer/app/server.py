"""One browser session's page of the served explorer (create_app, called by apps/explorer.py)
and the server that hands each session one (serve, called by ``vae-explorer serve``)."""

from __future__ import annotations

import panel as pn
import torch

from explorer.access import CheckpointAccess
from explorer.app import internals
from explorer.app.explorer import LatentExplorer
from explorer.app.options import TITLE, AppOptions, default_checkpoint
from explorer.formats import module
from explorer.latent.space import LatentModel


def create_app(options: AppOptions) -> pn.template.BaseTemplate:
    """One session's page: a fresh LatentModel and its view, state read from the URL."""
    torch.set_num_threads(1)  # one small decode per event; threads would only contend
    internals.mend_patch_curdoc()  # once per process; see there
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
