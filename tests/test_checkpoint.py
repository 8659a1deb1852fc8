"""Loading, saving and describing checkpoints (explorer.checkpoint).

The original Streamlit app's network is re-implemented here, independently of explorer.model, from
its description in DESIGN.md ("The original app's checkpoints"), so that its checkpoints are
checked against what that network really computes.
"""

import json
import os
import pickle
import shlex
import stat

import numpy as np
import pytest
import torch
from torch import nn

from explorer import checkpoint, zoo
from explorer.checkpoint import CheckpointError
from explorer.model import VAE, VAEConfig

# -- the original app's network ----------------------------------------------------------------


class OriginalEncoder(nn.Module):
    def __init__(self, latent_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.conv3 = nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=1)
        self.bn3 = nn.BatchNorm2d(64)
        self.fc_mu = nn.Linear(1024, latent_dim)
        self.fc_logvar = nn.Linear(1024, latent_dim)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = torch.relu(self.bn3(self.conv3(x)))
        x = x.reshape(x.size(0), 1024)
        return self.fc_mu(x), self.fc_logvar(x)


class OriginalDecoder(nn.Module):
    def __init__(self, latent_dim):
        super().__init__()
        self.fc = nn.Linear(latent_dim, 1024)
        self.deconv1 = nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=0)
        self.bn1 = nn.BatchNorm2d(32)
        self.deconv2 = nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.deconv3 = nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1)

    def forward(self, z):
        x = self.fc(z).reshape(-1, 64, 4, 4)
        x = torch.relu(self.bn1(self.deconv1(x)))
        x = torch.relu(self.bn2(self.deconv2(x)))
        return self.deconv3(x)  # no output activation: trained with MSE


class OriginalVAE(nn.Module):
    def __init__(self, latent_dim):
        super().__init__()
        self.encoder = OriginalEncoder(latent_dim)
        self.decoder = OriginalDecoder(latent_dim)


def randomize(module: nn.Module, seed: int) -> nn.Module:
    """Random weights and BatchNorm running statistics, so that eval mode matters."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(0.2 * torch.randn(param.shape, generator=gen))
        for layer in module.modules():
            if isinstance(layer, nn.BatchNorm2d):
                layer.running_mean.copy_(0.3 * torch.randn(layer.num_features, generator=gen))
                layer.running_var.copy_(0.5 + torch.rand(layer.num_features, generator=gen))
                layer.num_batches_tracked.fill_(100)
    return module.eval()


LATENT = 5
CONFIG = {
    "latent_dim": LATENT,
    "beta": 4.0,
    "batch_size": 128,
    "learning_rate": 1e-3,
    "epochs": 3,
    "seed": 42,
}
TRAIN_LOSSES = [61.5, 42.25, 38.0]
VAL_LOSSES = [55.0, 41.5, 39.75]


@pytest.fixture(scope="module")
def original() -> OriginalVAE:
    net = OriginalVAE(LATENT)
    return randomize(net, seed=1)


def original_payload(net: nn.Module, **changes) -> dict:
    """A dict like the original train.py's, after one Adam step."""
    optimizer = torch.optim.Adam(net.parameters(), lr=CONFIG["learning_rate"])
    for param in net.parameters():
        param.grad = torch.zeros_like(param)
    optimizer.step()
    payload = {
        "config": dict(CONFIG),
        "model_state_dict": net.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "epoch": 3,
        "train_losses": list(TRAIN_LOSSES),
        "val_losses": list(VAL_LOSSES),
    }
    payload.update(changes)
    return payload


def latents(n=16, seed=0):
    return 2 * torch.randn(n, LATENT, generator=torch.Generator().manual_seed(seed))


def assert_decodes_like_original(model: VAE, net: OriginalVAE):
    z = latents()
    with torch.no_grad():
        raw = net.decoder(z)
        assert ((raw < 0) | (raw > 1)).any()  # the clip is exercised
        torch.testing.assert_close(model.decode(z), raw.clamp(0, 1), atol=1e-6, rtol=0)
        x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(1))
        for ours, theirs in zip(model.encode(x), net.encoder(x), strict=True):
            torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=0)


# -- our own format ----------------------------------------------------------------------------

META = {
    "beta": 4.0,
    "epochs": 3,
    "dataset": "mnist",
    "seed": 7,
    "batch_size": 64,
    "learning_rate": 1e-3,
    "train_losses": TRAIN_LOSSES,
    "val_losses": VAL_LOSSES,
}


@pytest.fixture
def model() -> VAE:
    return randomize(VAE(VAEConfig(latent_dim=LATENT)), seed=2)


def test_round_trip(tmp_path, model):
    path = checkpoint.save(tmp_path / "sub" / "m.pth", model, META)
    assert path == tmp_path / "sub" / "m.pth"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644

    loaded = checkpoint.load(str(path))
    z = latents()
    with torch.no_grad():
        assert torch.equal(loaded.model.decode(z), model.decode(z))
    assert loaded.model is not model
    assert loaded.model.config == model.config
    assert not loaded.model.training
    assert not any(m.training for m in loaded.model.modules())
    assert not any(p.requires_grad for p in loaded.model.parameters())

    info = loaded.info
    assert (info.source, info.path, info.name) == (str(path), str(path), "m.pth")
    assert (info.format, info.latent_dim, info.output) == ("vae-explorer", LATENT, "sigmoid")
    assert info.image_shape == (1, 28, 28)
    assert (info.beta, info.epochs, info.dataset, info.seed) == (4.0, 3, "mnist", 7)
    assert (info.batch_size, info.learning_rate) == (64, 1e-3)
    assert info.train_losses == tuple(TRAIN_LOSSES)
    assert info.val_losses == tuple(VAL_LOSSES)
    assert info.final_val_loss == VAL_LOSSES[-1]
    data = json.loads(json.dumps(info.to_dict()))
    assert data["image_shape"] == [1, 28, 28]
    assert data["final_val_loss"] == VAL_LOSSES[-1]
    assert data["format"] == "vae-explorer"


def test_round_trip_with_optimizer_state_and_numpy_meta(tmp_path, model):
    """numpy numbers and str subclasses (what training code often has, e.g. torch.__version__)
    must not make the file unreadable."""
    optimizer = torch.optim.Adam(model.parameters())
    model.train()
    x = torch.rand(2, 1, 28, 28)
    model(x)[0].sum().backward()
    optimizer.step()
    model.eval()
    meta = {
        "beta": np.float64(0.5),
        "epochs": np.int64(2),
        "dataset": np.str_("fashion-mnist"),
        "train_losses": np.array([3.0, 2.0], dtype=np.float32),
        "val_losses": [torch.tensor(2.5), np.float32(2.25)],
        "torch": torch.__version__,  # a TorchVersion, which the safe loader refuses
    }
    path = checkpoint.save(tmp_path / "m.pth", model, meta, optimizer.state_dict())
    info = checkpoint.load(path).info
    assert (info.beta, info.epochs, info.dataset) == (0.5, 2, "fashion-mnist")
    assert info.train_losses == (3.0, 2.0)
    assert info.val_losses == (2.5, 2.25)
    payload = checkpoint.read(path)
    assert "optimizer_state_dict" in payload
    assert type(payload["meta"]["torch"]) is str
    assert payload["meta"]["torch"] == str(torch.__version__)


def test_save_refuses_meta_it_could_not_read_back(tmp_path, model):
    with pytest.raises(TypeError, match="meta\\['note'\\] is a object"):
        checkpoint.save(tmp_path / "m.pth", model, {"note": object()})
    assert list(tmp_path.iterdir()) == []


def test_linear_output_is_kept(tmp_path):
    model = randomize(VAE(VAEConfig(latent_dim=2, output="linear")), seed=3)
    loaded = checkpoint.load(checkpoint.save(tmp_path / "m.pth", model, {}))
    assert loaded.model.config.output == loaded.info.output == "linear"
    assert loaded.info.beta is None and loaded.info.train_losses == ()


def test_zoo_names_resolve_in_the_zoo(tmp_path, monkeypatch, model):
    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path)
    with pytest.raises(CheckpointError, match="zoo model mnist-beta1 is not built"):
        checkpoint.load("mnist-beta1")
    checkpoint.save(tmp_path / "mnist-beta1.pth", model, META)
    info = checkpoint.load(" mnist-beta1 ").info
    assert (info.source, info.name) == ("mnist-beta1", "mnist-beta1")
    assert info.path == str(tmp_path / "mnist-beta1.pth")


# -- the original app's format -----------------------------------------------------------------


def test_original_checkpoint_decodes_like_the_original_network(tmp_path, original):
    path = tmp_path / "vae_high_kl.pth"
    torch.save(original_payload(original), path)
    loaded = checkpoint.load(path)
    assert_decodes_like_original(loaded.model, original)
    info = loaded.info
    assert (info.format, info.output, info.latent_dim) == ("original", "linear", LATENT)
    assert (info.beta, info.epochs, info.seed) == (4.0, 3, 42)
    assert (info.batch_size, info.learning_rate) == (128, 1e-3)
    assert info.train_losses == tuple(TRAIN_LOSSES)
    assert info.val_losses == tuple(VAL_LOSSES)
    assert not any(p.requires_grad for p in loaded.model.parameters())


def test_original_checkpoint_with_losses_as_tensors(tmp_path, original):
    payload = original_payload(
        original, train_losses=torch.tensor(TRAIN_LOSSES), val_losses=torch.tensor(VAL_LOSSES)
    )
    torch.save(payload, tmp_path / "t.pth")
    info = checkpoint.load(tmp_path / "t.pth").info
    assert info.train_losses == tuple(TRAIN_LOSSES)
    assert info.epochs == 3


def test_data_parallel_prefix(tmp_path, original):
    state = {f"module.{k}": v for k, v in original.state_dict().items()}
    torch.save(original_payload(original, model_state_dict=state), tmp_path / "dp.pth")
    loaded = checkpoint.load(tmp_path / "dp.pth")
    assert loaded.info.format == "original"
    assert_decodes_like_original(loaded.model, original)


def test_bare_state_dict(tmp_path, original):
    torch.save(original.state_dict(), tmp_path / "bare.pth")
    loaded = checkpoint.load(tmp_path / "bare.pth")
    assert (loaded.info.format, loaded.info.output) == ("state-dict", "linear")
    assert loaded.info.beta is None
    assert_decodes_like_original(loaded.model, original)


# -- every bad input: one CheckpointError, one line --------------------------------------------


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _state(net, **changes):
    state = dict(net.state_dict())
    state.update(changes)
    return state


def _truncated(tmp_path, original):
    torch.save(original_payload(original), tmp_path / "full.pth")
    data = (tmp_path / "full.pth").read_bytes()
    return _write(tmp_path / "half.pth", data[: len(data) // 2])


def _saved(obj):
    def make(tmp_path, original):
        torch.save(obj(original) if callable(obj) else obj, tmp_path / "x.pth")
        return tmp_path / "x.pth"

    return make


def _nan_state(net):
    weight = net.state_dict()["decoder.deconv3.weight"].clone()
    weight[0, 0, 1, 1] = float("nan")
    return original_payload(net, model_state_dict=_state(net, **{"decoder.deconv3.weight": weight}))


def _ours_with_wrong_config(net):
    return {
        "format": "vae-explorer",
        "version": 1,
        "config": {"latent_dim": LATENT + 3, "output": "linear"},
        "model_state_dict": net.state_dict(),
        "meta": {},
    }


def _ours(net):
    return {**_ours_with_wrong_config(net), "config": {"latent_dim": LATENT, "output": "linear"}}


def _fc_mu(net, rows):
    """The original network's weights with an encoder.fc_mu of ``rows`` latent dimensions."""
    weight = torch.zeros(1).expand(rows, 1024)  # stored as one element, whatever ``rows``
    return _state(net, **{"encoder.fc_mu.weight": weight})


def _int_fc(net):
    return _state(net, **{"decoder.fc.weight": torch.zeros(1024, LATENT, dtype=torch.int64)})


def _legacy(tmp_path, net):
    """torch's pre-1.6 format: its pickle allocates what it declares before anything is read."""
    path = tmp_path / "legacy.pth"
    torch.save(original_payload(net), path, _use_new_zipfile_serialization=False)
    return path


def _link_loop(tmp_path, net):
    os.symlink(tmp_path / "b.pth", tmp_path / "a.pth")
    os.symlink(tmp_path / "a.pth", tmp_path / "b.pth")
    return tmp_path / "a.pth"


BAD_INPUTS = {
    "missing": (lambda tmp, net: tmp / "nope.pth", "not found"),
    "directory": (lambda tmp, net: tmp, "directory"),
    "empty": (lambda tmp, net: _write(tmp / "e.pth", b""), "empty"),
    "truncated": (_truncated, "truncated"),
    "random bytes": (
        lambda tmp, net: _write(tmp / "r.pth", np.random.default_rng(0).bytes(4096)),
        "not a pytorch checkpoint",
    ),
    "text": (lambda tmp, net: _write(tmp / "t.pth", b"hello\n"), "pytorch checkpoint"),
    "a tensor": (_saved(torch.zeros(3)), "holds a tensor"),
    "a list": (_saved([1.0, 2.0]), "holds a list"),
    "unknown layout": (_saved({"weights": torch.zeros(2), "step": 3}), "unknown"),
    "empty dict": (_saved({}), "unknown"),
    "no weights": (_saved(lambda net: original_payload(net, model_state_dict={})), "no model"),
    "other network": (_saved({"fc.weight": torch.zeros(2, 2)}), "does not hold this vae"),
    "missing layer": (
        _saved(lambda net: original_payload(net, model_state_dict=_state(net, **{"x.y": 1}))),
        "wrong layers",
    ),
    "shape mismatch": (
        _saved(
            lambda net: original_payload(
                net, model_state_dict=_state(net, **{"decoder.fc.weight": torch.zeros(1024, 7)})
            )
        ),
        "shape",
    ),
    "config disagrees": (
        _saved(lambda net: original_payload(net, config={**CONFIG, "latent_dim": LATENT + 1})),
        "latent_dim",
    ),
    "our config disagrees": (_saved(_ours_with_wrong_config), "shape"),
    "our bad config": (
        _saved(lambda net: {**_ours_with_wrong_config(net), "config": {"latent_dim": 0}}),
        "invalid model config",
    ),
    "our future version": (
        _saved(lambda net: {**_ours_with_wrong_config(net), "version": 2}),
        "version 2",
    ),
    "nan weights": (_saved(_nan_state), "nan"),
    "unknown zoo name": (lambda tmp, net: "mnist-beta99", "not found"),
    "blank": (lambda tmp, net: "  ", "no checkpoint given"),
    # Sizes and types that used to escape as tracebacks.
    "no latent dimensions": (
        _saved(lambda net: original_payload(net, model_state_dict=_fc_mu(net, 0))),
        "has 0 latent dimensions",
    ),
    "5,000 latent dimensions": (
        _saved(lambda net: original_payload(net, model_state_dict=_fc_mu(net, 5000))),
        "has 5,000 latent dimensions",
    ),
    "latent_dim a tensor": (
        _saved(lambda net: original_payload(net, config={**CONFIG, "latent_dim": torch.tensor(5)})),
        "latent_dim is a tensor, expected an integer",
    ),
    "our latent_dim a tensor": (
        _saved(lambda net: {**_ours(net), "config": {"latent_dim": torch.tensor(5)}}),
        "latent_dim is a tensor",
    ),
    "our latent_dim too large": (
        _saved(lambda net: {**_ours(net), "config": {"latent_dim": 5000}}),
        "latent_dim 5000 is outside 1..512",
    ),
    "our unknown config field": (
        _saved(lambda net: {**_ours(net), "config": {"x\n" * 5000: 1}}),
        "unknown field x?x?",
    ),
    "our config not a dict": (_saved(lambda net: {**_ours(net), "config": [5]}), "not a dict"),
    "our version a tensor": (
        _saved(lambda net: {**_ours(net), "version": torch.ones(3)}),
        "version unknown",
    ),
    "key not text": (
        _saved(lambda net: original_payload(net, model_state_dict={torch.zeros(2, 2): 1})),
        "not text",
    ),
    "unknown key shown on one line": (_saved({"a\nb" * 100: torch.zeros(1), 3: 1}), "a?ba?b"),
    "integer weights": (
        _saved(lambda net: original_payload(net, model_state_dict=_int_fc(net))),
        "torch.int64 values in decoder.fc.weight",
    ),
    "legacy format": (_legacy, "legacy format"),
    "name too long": (lambda tmp, net: str(tmp / ("a" * 300 + ".pth")), "file name too long"),
    "path too long": (lambda tmp, net: "x/" * 3000, "path is too long (6,000 characters"),
    "unknown user": (lambda tmp, net: "~no-such-user-vae/x.pth", "not found: ~no-such-user"),
    "nul": (lambda tmp, net: "a\0b.pth", "nul character"),
    "not text": (lambda tmp, net: b"x.pth", "(text)"),
    "through a file": (lambda tmp, net: _write(tmp / "f.pth", b"x") / "x.pth", "not found"),
    "link loop": (_link_loop, "too many levels of symbolic links"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_raises_one_line(case, tmp_path, original, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative name like "mnist-beta99" is looked up here
    make, word = BAD_INPUTS[case]
    source = make(tmp_path, original)
    with pytest.raises(CheckpointError) as caught:
        checkpoint.load(source)
    message = str(caught.value)
    assert "\n" not in message
    assert word in message.lower()


def test_a_missing_checkpoint_says_how_to_train_one(tmp_path, monkeypatch):
    """The original app's hint, "train a model first", with the very command that writes it."""
    monkeypatch.chdir(tmp_path)
    for name in ["vae_high_kl.pth", str(tmp_path / "my models" / "low kl.pt")]:
        with pytest.raises(CheckpointError) as caught:
            checkpoint.resolve(name)
        command = f"python train.py --beta 10 --epochs 10 --checkpoint-path {shlex.quote(name)}"
        assert str(caught.value) == f"checkpoint not found: {name} — train a model first: {command}"
    with pytest.raises(CheckpointError) as caught:
        checkpoint.resolve("mnist-beta99")  # a zoo name mistyped: no training command
    assert str(caught.value) == "checkpoint not found: mnist-beta99"


# -- malicious pickles: refused, never executed ------------------------------------------------


class Canary:
    """Unpickling this runs a shell command that creates ``path``."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(str(self.path))}",))


def _torch_archive(path, canary):
    torch.save({"model_state_dict": {"x": Canary(canary)}}, path)


def _pickle(protocol):
    def write(path, canary):
        with open(path, "wb") as handle:
            pickle.dump({"model_state_dict": Canary(canary)}, handle, protocol=protocol)

    return write


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
@pytest.mark.parametrize(
    "write",
    [_torch_archive, _pickle(pickle.DEFAULT_PROTOCOL), _pickle(2)],
    ids=["torch.save", "pickle.dump", "pickle.dump-protocol-2"],
)
def test_malicious_pickle_is_refused_not_run(tmp_path, write):
    canary = tmp_path / "canary"
    write(tmp_path / "evil.pth", canary)
    with pytest.raises(CheckpointError, match="was refused") as caught:
        checkpoint.load(tmp_path / "evil.pth")
    assert "\n" not in str(caught.value)
    assert not canary.exists()


def test_the_canary_is_live(tmp_path):
    """The malicious payload above really runs code when unpickled unsafely."""
    canary = tmp_path / "canary"
    pickle.loads(pickle.dumps(Canary(canary), protocol=2))
    assert canary.exists()


# -- atomic save and the shared cache ----------------------------------------------------------


def test_failed_save_leaves_the_previous_checkpoint(tmp_path, model, monkeypatch):
    path = checkpoint.save(tmp_path / "m.pth", model, {"beta": 1.0})
    before = path.read_bytes()
    calls = []

    def save_half_then_fail(obj, handle, *args, **kwargs):
        calls.append(obj["meta"])
        handle.write(before[: len(before) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint.torch, "save", save_half_then_fail)
    other = randomize(VAE(VAEConfig(latent_dim=LATENT)), seed=9)
    with pytest.raises(OSError, match="No space left"):
        checkpoint.save(path, other, {"beta": 2.0})
    assert calls == [{"beta": 2.0}]
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pth"]
    monkeypatch.undo()
    assert checkpoint.load(path).info.beta == 1.0


def test_load_shared_caches_until_the_file_changes(tmp_path, model):
    path = checkpoint.save(tmp_path / "m.pth", model, {"beta": 1.0})
    first = checkpoint.load_shared(path)
    assert checkpoint.load_shared(str(path)) is first
    assert first.info.beta == 1.0

    other = randomize(VAE(VAEConfig(latent_dim=LATENT)), seed=9)
    checkpoint.save(path, other, {"beta": 2.0})  # same size, maybe the same clock tick
    second = checkpoint.load_shared(path)
    assert second is not first
    assert second.info.beta == 2.0
    z = latents()
    with torch.no_grad():
        assert torch.equal(second.model.decode(z), other.decode(z))
    assert checkpoint.load_shared(path) is second


def test_load_shared_reports_bad_files(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        checkpoint.load_shared(tmp_path / "missing.pth")


@pytest.mark.parametrize(
    "source",
    ["a" * 300 + ".pth", "x/" * 3000, "~no-such-user-vae/x.pth", "a\0b.pth", "  "],
    ids=["name-too-long", "path-too-long", "unknown-user", "nul", "blank"],
)
def test_paths_no_file_system_takes_are_one_line_errors(source):
    for function in (checkpoint.resolve, checkpoint.load, checkpoint.load_shared):
        with pytest.raises(CheckpointError) as caught:
            function(source)
        message = str(caught.value)
        assert "\n" not in message and "\0" not in message and len(message) < 400


# -- uploads: bytes from a browser under a name from a browser ---------------------------------

UPLOAD_NAMES = [
    ("my model.pth", "my model.pth"),
    ("../../etc/evil.pth", "evil.pth"),
    ("C:\\Users\\me\\m.pth", "m.pth"),
    ("..", "upload.pth"),
    (".", "upload.pth"),
    ("", "upload.pth"),
    (None, "upload.pth"),
    (["a.pth", "b.pth"], "upload.pth"),
    ("a\0b.pth", "a?b.pth"),
    ("a\nb\x1b[31m.pth", "a?b?[31m.pth"),
    ("x" * 1000 + ".pth", "x" * 49 + "…" + "x" * 46 + ".pth"),
]


@pytest.mark.parametrize(("given", "shown"), UPLOAD_NAMES)
def test_load_bytes_names_the_upload_safely(tmp_path, model, given, shown):
    data = checkpoint.save(tmp_path / "m.pth", model, META).read_bytes()
    info = checkpoint.load_bytes(data, given).info
    assert (info.name, info.source, info.path) == (shown, f"upload:{shown}", shown)
    with pytest.raises(CheckpointError) as caught:
        checkpoint.load_bytes(b"\x80\x04garbage", given)
    assert str(caught.value).startswith(f"{shown} was refused")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("data", "words"),
    [(b"", "is empty"), ([b"x"], "is not a file upload"), ("aGVsbG8=", "is not a file upload")],
)
def test_load_bytes_refuses_what_is_not_a_file(data, words):
    with pytest.raises(CheckpointError, match=f"^m.pth {words}"):
        checkpoint.load_bytes(data, "m.pth")


def test_torchscript_and_pt2_programs_are_refused_with_the_safe_way(tmp_path):
    """Both load by running what they hold (TorchScript's code; a .pt2's pickles): refused
    before torch reads them, with the way that works named."""
    net = nn.Linear(4, 4)
    scripted = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(net), scripted)
    program = tmp_path / "program.pt2"
    torch.export.save(torch.export.export(net, (torch.zeros(1, 4),)), program)
    for path, kind in ((scripted, "TorchScript"), (program, "torch.export program")):
        for load in (
            lambda p: checkpoint.load(p),
            lambda p: checkpoint.load_bytes(p.read_bytes(), p.name),
        ):
            with pytest.raises(CheckpointError, match=kind) as caught:
                load(path)
            assert "export it to ONNX" in str(caught.value) and "\n" not in str(caught.value)
