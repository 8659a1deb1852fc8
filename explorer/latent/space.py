"""LatentModel: the explorer's state and logic, one instance per browser session. No Panel here.

Parameters (μ, σ, z, mode, seed, checkpoint) drive a decode: z = μ + σ·ε, where ε is drawn once
per seed from the session's own generator, so moving a slider moves the image smoothly and a seed
reproduces it exactly. Outputs are plain arrays (``image``, ``z``) that views render.
"""

from __future__ import annotations

import functools
import math
import random
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import param
from param.parameterized import Comparator

from explorer import checkpoint as ckpt
from explorer import zoo
from explorer.access import MAX_UPLOAD_MB, UPLOAD_PREFIX, CheckpointAccess
from explorer.compute import noise, placing
from explorer.compute.decoding import decode_image
from explorer.compute.device import available_devices, resolve_device
from explorer.formats import module
from explorer.latent.table import DRAWN_SEED_BOUNDS, MODES, MU, SEED_BOUNDS, SIGMA, Z_SET
from explorer.latent.vector import Bounds, resized
from explorer.model import VAE

MAX_UPLOAD_BYTES = int(MAX_UPLOAD_MB * 2**20)
# The parameters that make z: a change decodes again.
INPUTS = ("mu", "sigma", "z_set", "mode", "seed")
# What a snapshot copies: the parameters that give the image (the rest is derived or per session).
SNAPSHOT = ("checkpoint", "device", "mode", "mu", "sigma", "z_set", "seed", "access", "models")


class Vector(param.List):
    """A list of finite floats, each within ``item_bounds`` (see explorer.latent.vector)."""

    __slots__ = ["item_bounds"]

    def __init__(self, default=None, *, item_bounds: Bounds, **params):
        self.item_bounds = item_bounds
        super().__init__(default=default if default is not None else [], **params)

    def _validate(self, val):
        super()._validate(val)
        if val is not None:
            self.item_bounds.check(val, self.name)


class LatentModel(param.Parameterized):
    """A VAE's latent space under the user's control: which z, and the image it decodes to."""

    checkpoint = param.String(
        default=zoo.DEFAULT,
        label="Checkpoint",
        doc="A bundled zoo model's name or the path of a .pth checkpoint",
    )
    device = param.Selector(default="auto", objects=["auto", "cpu"], doc="Where to decode")
    mode = param.Selector(
        default="sample",
        objects=list(MODES),
        doc="sample: z = μ + σ·ε; prior: z = ε ~ N(0, I); deterministic: z as set",
    )
    mu = Vector(
        item_bounds=MU.bounds, label=MU.symbol, doc=f"Mean of each latent dimension, in {MU.bounds}"
    )
    sigma = Vector(
        item_bounds=SIGMA.bounds,
        label=SIGMA.symbol,
        doc=f"Standard deviation of each dimension, in {SIGMA.bounds}",
    )
    z_set = Vector(
        item_bounds=Z_SET.bounds,
        label=Z_SET.symbol,
        doc=f"z for deterministic mode, each in {Z_SET.bounds}",
    )
    seed = param.Integer(
        default=0, bounds=SEED_BOUNDS, label="Seed", doc="Seed of ε ~ N(0, I); Resample changes it"
    )
    resample = param.Event(label="Resample", doc="Draw a new ε (a new seed)")
    reset = param.Event(label="Reset to N(0,1)", doc="μ = 0 and σ = 1 (and z = 0) everywhere")
    randomize_mu = param.Event(label="Randomize μ", doc="Draw each μ from N(0, 1), clipped")

    info = param.ClassSelector(class_=ckpt.ModelInfo, default=None, constant=True, doc="Model")
    z = param.Array(default=None, constant=True, doc="The latent vector decoded (float32)")
    image = param.Array(
        default=None, constant=True, doc="The decoded image as shown: H×W, or H×W×3, in [0, 1]"
    )
    message = param.String(default="", doc="The last error, one line; empty when all is well")
    access = param.ClassSelector(
        class_=CheckpointAccess,
        default=CheckpointAccess(),
        constant=True,
        doc="Which checkpoints this session may open (see explorer.access)",
    )
    models = param.Dict(
        default=None,
        constant=True,
        doc="Models given as objects (a notebook's module, the operator's --model) by name: "
        "opened by that name before any file, and never replaced",
    )
    max_upload_bytes = param.Integer(
        default=MAX_UPLOAD_BYTES, bounds=(1, None), constant=True, doc="Largest upload accepted"
    )

    def __init__(
        self, rng_seed: int | None = None, *, loaded: ckpt.Checkpoint | None = None, **params
    ):
        self._rng = random.Random(rng_seed)  # this session's own source of seeds and random μ
        self._model = None
        self._upload: tuple[str, bytes] | None = None  # (source, bytes) of the last upload
        self._loading = False
        self._runner = None  # how loads run (see loading_with); None: here and now
        self._eps: np.ndarray | None = None
        self._eps_seed: int | None = None
        super().__init__(**params)
        self.param.device.objects = available_devices()
        # onlychanged=False: a seed set together with the mode counts even when it is the same.
        self.param.watch(self._on_inputs, list(INPUTS), onlychanged=False)
        if loaded is None:
            self._load()
        else:
            self.apply_checkpoint(loaded)

    @classmethod
    def of(
        cls, vae: object, name: str = "my-vae", *, latent_dim=None, output="linear", **params
    ) -> LatentModel:
        """The latent space of a live VAE: an ``nn.Module`` or any object with ``decode(z)``
        (and ``encode(x)``); see :func:`explorer.formats.module.wrap` for the arguments."""
        loaded = module.wrap(vae, name, latent_dim=latent_dim, output=output)
        return cls(models={name: loaded}, checkpoint=name, **params)

    # -- loading ---------------------------------------------------------------------------
    # Two parts, so that an app can read in a worker thread and apply on its event loop: reading
    # (read_checkpoint) writes no parameter; applying (apply_checkpoint, load_failed) does.
    @param.depends("checkpoint", "device", watch=True)
    def _load(self):
        """Load the checkpoint; on failure keep the previous model and say why.

        Inside :meth:`loading_with`, its runner runs the two parts; otherwise both run here."""
        read = functools.partial(self.read_checkpoint, self.checkpoint, self.device)
        if self._runner is not None:
            self._runner(self.checkpoint, read, self.apply_checkpoint, self.load_failed)
            return
        try:
            loaded = read()
        except ckpt.CheckpointError as exc:
            self.load_failed(exc)
            return
        self.apply_checkpoint(loaded)

    @contextmanager
    def loading_with(self, runner):
        """Loads started inside run as ``runner(source, read, apply, failed)``: ``read()`` may run
        in any thread; then ``apply(loaded)``, or ``failed(error)``, on the model's own thread."""
        previous, self._runner = self._runner, runner
        try:
            yield
        finally:
            self._runner = previous

    def read_checkpoint(self, source: str, device: str = "auto") -> ckpt.Checkpoint:
        """Check access to ``source``, read it and rebuild its network, or CheckpointError.

        Writes no parameter and reads only what is replaced whole (the access rule, the last
        upload), so it is safe in a worker thread while the session goes on."""
        given = (self.models or {}).get(source)
        if given is not None:
            return given
        source = self.access.check(source)
        device = resolve_device(device)
        if source.startswith(UPLOAD_PREFIX):
            name, data = self._uploaded(source)
            return ckpt.load_bytes(data, name, device=device)
        return ckpt.load_shared(source, device=device)

    def apply_checkpoint(self, loaded: ckpt.Checkpoint) -> None:
        """Show a loaded checkpoint: its info, μ, σ and z fitted to its size, its image."""
        self._model = loaded.model
        n = loaded.info.latent_dim
        # One batch, so that watchers of `info` see lists of the new size; decode once, after.
        self._loading = True
        try:
            with param.edit_constant(self):
                self.param.update(
                    info=loaded.info,
                    message="",
                    mu=resized(self.mu, n, 0.0),
                    sigma=resized(self.sigma, n, 1.0),
                    z_set=resized(self.z_set, n, 0.0),
                )
        finally:
            self._loading = False
        self._update()

    def load_failed(self, error: Exception) -> None:
        """A load failed: keep the previous model and say why (a CheckpointError's one line);
        any other error is a bug, and is raised again."""
        if not isinstance(error, ckpt.CheckpointError):
            raise error
        self.message = str(error)
        if self._model is None:
            self._set_outputs(None, None)

    def snapshot(self) -> LatentModel:
        """A copy of this state that nothing else changes, sharing the loaded network: what work
        in a worker thread reads (a page download) while the session goes on. ValueError
        before a model has loaded."""
        if self._model is None or self.info is None:
            raise ValueError(self.message or "no model loaded")
        return LatentModel(
            loaded=ckpt.Checkpoint(model=self._model, info=self.info),
            **{name: getattr(self, name) for name in SNAPSHOT},
        )

    def upload(self, data: object, filename: object) -> None:
        """Load a checkpoint sent from the browser (held in memory, for this session only).

        ``data`` and ``filename`` come from the browser as they are (a FileInput's value may be
        a list, text or None): anything but the bytes of one file is refused with a message,
        and the model and image stay as they were.
        """
        name = ckpt.upload_name(filename)
        if not isinstance(data, (bytes, bytearray)):
            self.message = f"{name} is not a file upload"
            return
        refusal = self.upload_refusal(filename, len(data))
        if refusal is not None:
            self.message = refusal
            return
        source = f"{UPLOAD_PREFIX}{name}"
        self._upload = (source, bytes(data))
        if self.checkpoint == source:
            self.param.trigger("checkpoint")
        else:
            self.checkpoint = source

    def upload_refusal(self, filename: object, size: float) -> str | None:
        """Why a file of ``size`` bytes is refused as an upload, or None: the same words whether
        the server measured it or the page did before sending (explorer.app.upload_guard)."""
        name = ckpt.upload_name(filename)
        if size == 0:
            return f"{name} is empty (0 bytes), not a checkpoint"
        if size > self.max_upload_bytes:
            limit = self.max_upload_bytes / 2**20
            return f"{name} is too large ({size / 2**20:.1f} MB; limit {limit:g} MB)"
        return None

    def _uploaded(self, source: str) -> tuple[str, bytes]:
        if self._upload is None or self._upload[0] != source:
            raise ckpt.CheckpointError("that upload is no longer here: upload the file again")
        return source.removeprefix(UPLOAD_PREFIX), self._upload[1]

    @property
    def latent_dim(self) -> int:
        return self.info.latent_dim if self.info is not None else len(self.mu)

    @property
    def public_checkpoint(self) -> str:
        """The loaded checkpoint as a visitor may see it (downloads, pages): the operator's own
        path by its file name only; zoo names, uploads and paths typed in the page as they are."""
        source = self.info.source if self.info is not None else self.checkpoint
        if source in self.access.trusted and source not in zoo.NAMES:
            return Path(source).name
        return source

    @property
    def vae(self) -> VAE | None:
        """The loaded network (frozen, shared read-only by all sessions); None before a load."""
        return self._model

    # -- events ----------------------------------------------------------------------------
    @param.depends("resample", watch=True)
    def _on_resample(self):
        self.seed = self._draw_seed()

    def _draw_seed(self) -> int:
        """A new seed, other than the current one, short enough to read aloud."""
        seed = self.seed
        while seed == self.seed:
            seed = self._rng.randint(*DRAWN_SEED_BOUNDS)
        return seed

    @param.depends("reset", watch=True)
    def _on_reset(self):
        n = self.latent_dim
        self.param.update(mu=[0.0] * n, sigma=[1.0] * n, z_set=[0.0] * n)

    @param.depends("randomize_mu", watch=True)
    def _on_randomize(self):
        self.mu = [MU.bounds.clamp(round(self._rng.gauss(0.0, 1.0), 2)) for _ in self.mu]

    def set_value(self, name: str, index: int, value: float) -> None:
        """Set one dimension of ``mu``, ``sigma`` or ``z_set`` (replacing the list)."""
        values = list(getattr(self, name))
        if values[index] != value:
            values[index] = float(value)
            setattr(self, name, values)

    def place(self, dims: tuple[int, int], point: tuple[float, float]) -> None:
        """Put z's dimensions ``dims`` at ``point`` (two finite numbers, a click on a 2-D map),
        rounded as the sliders show them and clamped to their bounds. In sample mode that is μ
        there with σ = 0, so that z lands exactly on the point; otherwise z is set exactly (from
        the prior, the z drawn so far with the two dimensions moved). ValueError if the point
        is not finite."""
        if self.mode == "sample":
            self.param.update(
                mu=placing.placed(self.mu, dims, point, MU.bounds),
                sigma=placing.placed(self.sigma, dims, (0.0, 0.0), SIGMA.bounds),
            )
        else:
            z = self.z_set if self.mode == "deterministic" else self.current_z()
            z_set = placing.placed(z, dims, point, Z_SET.bounds)
            self.param.update(mode="deterministic", z_set=z_set)

    def set_posterior(self, mu, sigma) -> int:
        """Sample from an encoded image's posterior q(z|x) = N(μ, σ²): sample mode, μ and σ
        rounded as the sliders show them and clamped to their bounds. Returns how many values
        lay outside the bounds; ValueError if one is no finite number."""
        mu, sigma, clamped = placing.posterior_values(mu, sigma, MU.bounds, SIGMA.bounds)
        self.param.update(mode="sample", mu=mu, sigma=sigma)
        return clamped

    # -- decoding --------------------------------------------------------------------------
    def epsilon(self) -> np.ndarray:
        """ε ~ N(0, I) for the current seed (cached until the seed or the latent size changes)."""
        n = self.latent_dim
        if self._eps is None or self._eps.shape != (n,) or self._eps_seed != self.seed:
            self._eps = noise.standard_normal(self.seed, n)  # as the living page draws it
            self._eps_seed = self.seed
        return self._eps

    def current_z(self) -> np.ndarray:
        """z for the current mode and values (float32)."""
        if self.mode == "deterministic":
            return np.asarray(self.z_set, dtype=np.float32)
        eps = self.epsilon()
        if self.mode == "prior":
            return eps.astype(np.float32)
        mu = np.asarray(self.mu, dtype=np.float32)
        sigma = np.asarray(self.sigma, dtype=np.float32)
        return (mu + sigma * eps).astype(np.float32)

    def _on_inputs(self, *events):
        """Decode again when what makes z changed. Switching to the prior draws a new seed first,
        as Resample does: at the seed it had, the prior's z is sample mode's at μ = 0, σ = 1, and
        the image would not change. A seed set together with the mode (a link, a JSON state)
        is kept."""
        changed = {event.name: event for event in events}
        mode = changed.get("mode")
        to_prior = mode is not None and mode.new == "prior" and mode.old != "prior"
        if to_prior and "seed" not in changed:
            self.seed = self._draw_seed()  # whose own event decodes, once
            return
        if any(not Comparator.is_equal(event.old, event.new) for event in events):
            self._update()

    def _update(self):
        if self._loading or self._model is None or len(self.mu) != self.latent_dim:
            return
        z = self.current_z()
        self._set_outputs(z, decode_image(self._model, z))

    def _set_outputs(self, z, image):
        with self._outputs_writable():
            self.param.update(z=z, image=image)

    @contextmanager
    def _outputs_writable(self):
        """``param.edit_constant`` for ``z`` and ``image`` alone: it walks every parameter,
        which cost ~70 µs of each slider step."""
        outputs = [self.param[name] for name in ("z", "image")]
        for parameter in outputs:
            parameter.constant = False
        try:
            yield
        finally:
            for parameter in outputs:
                parameter.constant = True

    # -- summaries -------------------------------------------------------------------------
    def statistics(self) -> dict[str, float]:
        """The original app's numbers, those that apply in this mode: mean ± std of μ and σ only
        when z is sampled from N(μ, σ²) (sample mode); mean, std, min and max of z always."""
        # Plain Python: for a few dozen numbers numpy's per-call cost was most of a step's 40 µs.
        stats = {}
        if self.mode == "sample":
            mu_mean, mu_std = _mean_std(self.mu)
            sigma_mean, sigma_std = _mean_std(self.sigma)
            stats |= {"mu_mean": mu_mean, "mu_std": mu_std}
            stats |= {"sigma_mean": sigma_mean, "sigma_std": sigma_std}
        z = self.z.tolist() if self.z is not None else []
        if z:
            z_mean, z_std = _mean_std(z)
            stats |= {"z_mean": z_mean, "z_std": z_std, "z_min": min(z), "z_max": max(z)}
        return stats


def _mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and population standard deviation (numpy's default); NaN for no values."""
    if not values:
        return math.nan, math.nan
    mean = math.fsum(values) / len(values)
    return mean, math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))
