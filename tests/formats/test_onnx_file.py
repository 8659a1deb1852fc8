"""ONNX decoders and encoders: written here from small torch modules (as a researcher exports
theirs) and by hand (as an attacker would), then opened with explorer.formats.onnx_file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from explorer import checkpoint
from explorer.formats import onnx_file
from explorer.formats.base import CheckpointError
from explorer.latent.space import LatentModel

LATENT = 6


def mlp_decoder(side: int = 32) -> nn.Module:
    """z → a grey side×side image, [batch, H, W], values in [0, 1]."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(LATENT, 64), nn.ReLU(), nn.Linear(64, side * side), nn.Sigmoid(),
        nn.Unflatten(1, (side, side)),
    ).eval()  # fmt: skip


def conv_decoder(side: int = 64) -> nn.Module:
    """z → an RGB side×side image [batch, 3, H, W] through ConvTranspose and BatchNorm."""
    torch.manual_seed(1)
    start = side // 4
    net = nn.Sequential(
        nn.Linear(LATENT, 16 * start * start), nn.Unflatten(1, (16, start, start)),
        nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.ConvTranspose2d(8, 3, 4, 2, 1), nn.Sigmoid(),
    )  # fmt: skip
    net[3].running_mean.uniform_(-0.3, 0.3)
    net[3].running_var.uniform_(0.5, 1.5)
    return net.eval()


class ConvEncoder(nn.Module):
    """An RGB image → (μ, log σ²), as two outputs or, with ``joined``, one [batch, 2d]."""

    def __init__(self, side: int = 64, joined: bool = False):
        super().__init__()
        torch.manual_seed(2)
        self.joined = joined
        self.body = nn.Sequential(nn.Conv2d(3, 4, 4, 4), nn.ReLU(), nn.Flatten())
        self.head = nn.Linear(4 * (side // 4) ** 2, 2 * LATENT)

    def forward(self, x):
        both = self.head(self.body(x))
        return both if self.joined else (both[:, :LATENT], both[:, LATENT:])


def export(module: nn.Module, path: Path, example: torch.Tensor, **options) -> Path:
    """torch's exporter as a user calls it: a dynamic batch axis; the older, faster exporter
    unless ``dynamo=True`` (torch's default, which writes the weights beside the graph)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if options.pop("dynamo", False):
            torch.onnx.export(
                module, (example,), path, dynamic_shapes=({0: torch.export.Dim("batch")},),
                **options,
            )  # fmt: skip
        else:
            torch.onnx.export(
                module, (example,), path, input_names=["input"], dynamo=False,
                dynamic_axes={"input": {0: "batch"}}, **options,
            )  # fmt: skip
    return path


def z_batch(n: int = 5) -> torch.Tensor:
    return torch.randn(n, LATENT, generator=torch.Generator().manual_seed(3))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("onnx")
    return {
        "mlp": export(mlp_decoder(), folder / "mlp.onnx", z_batch(2)),
        "conv": export(conv_decoder(), folder / "conv.onnx", z_batch(2)),
    }


# -- what a researcher's models do ---------------------------------------------------------------
def test_a_grey_mlp_decodes_as_torch(files):
    vae, info = onnx_file.load(files["mlp"], "mlp.onnx")
    assert (info.format, info.latent_dim, info.image_shape) == ("onnx", LATENT, (1, 32, 32))
    assert not vae.has_encoder
    z = z_batch()
    with torch.no_grad():
        want = mlp_decoder()(z)[:, None]
    np.testing.assert_allclose(vae.decode(z).numpy(), want.numpy(), rtol=0, atol=1e-5)


def test_a_colour_conv_decoder_with_an_encoder_beside_it(files, tmp_path):
    path = tmp_path / "conv.onnx"
    path.write_bytes(files["conv"].read_bytes())
    export(ConvEncoder(), tmp_path / "conv.encoder.onnx", torch.rand(2, 3, 64, 64))
    vae, info = onnx_file.load(path, str(path))
    assert info.image_shape == (3, 64, 64) and vae.has_encoder
    z = z_batch()
    with torch.no_grad():
        images = conv_decoder()(z)
        mu, logvar = ConvEncoder()(images)
    np.testing.assert_allclose(vae.decode(z).numpy(), images.numpy(), rtol=0, atol=1e-5)
    got_mu, got_logvar = vae.encode(images)
    np.testing.assert_allclose(got_mu.numpy(), mu.numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(got_logvar.numpy(), logvar.numpy(), rtol=0, atol=1e-5)


def test_an_encoder_with_one_joined_output_is_split_mu_first(files, tmp_path):
    path = tmp_path / "conv.onnx"
    path.write_bytes(files["conv"].read_bytes())
    export(ConvEncoder(joined=True), tmp_path / "conv.encoder.onnx", torch.rand(2, 3, 64, 64))
    vae, _ = onnx_file.load(path, str(path))
    x = torch.rand(3, 3, 64, 64)
    with torch.no_grad():
        both = ConvEncoder(joined=True)(x)
    mu, logvar = vae.encode(x)
    np.testing.assert_allclose(mu.numpy(), both[:, :LATENT].numpy(), atol=1e-5)
    np.testing.assert_allclose(logvar.numpy(), both[:, LATENT:].numpy(), atol=1e-5)


def test_torchs_default_export_with_its_weights_beside_it_opens(tmp_path):
    """torch 2.14's default (dynamo) exporter writes NAME.onnx plus NAME.onnx.data."""
    net = conv_decoder(32)
    path = export(net, tmp_path / "default.onnx", z_batch(2), dynamo=True)
    assert (tmp_path / "default.onnx.data").is_file()
    vae, info = onnx_file.load(path, str(path))
    assert info.image_shape == (3, 32, 32)
    with torch.no_grad():
        want = net(z_batch())
    np.testing.assert_allclose(vae.decode(z_batch()).numpy(), want.numpy(), rtol=0, atol=1e-5)
    # The same file uploaded: one file cannot carry its weights beside it.
    with pytest.raises(CheckpointError, match="an upload must be one file"):
        onnx_file.load_bytes(path.read_bytes(), "default.onnx", "upload:default.onnx")


def test_logits_are_shown_through_a_sigmoid_when_the_metadata_says_so(tmp_path):
    logits = helper.make_graph(
        [helper.make_node("MatMul", ["z", "w"], ["flat"]),
         helper.make_node("Reshape", ["flat", "shape"], ["image"])],
        "logits",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", LATENT])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 8, 8])],
        [numpy_helper.from_array(np.full((LATENT, 64), 0.5, np.float32), "w"),
         numpy_helper.from_array(np.array([-1, 8, 8], np.int64), "shape")],
    )  # fmt: skip
    model = helper.make_model(logits, opset_imports=[helper.make_opsetid("", 17)])
    helper.set_model_props(model, {"vae_explorer.output": "sigmoid", "vae_explorer.beta": "4"})
    path = tmp_path / "logits.onnx"
    onnx.save(model, path)
    vae, info = onnx_file.load(path, str(path))
    z = torch.ones(1, LATENT)
    assert info.output == "sigmoid" and info.beta == 4.0
    np.testing.assert_allclose(vae.decode(z).numpy(), 1 / (1 + np.exp(-3.0)), rtol=1e-6)


def test_a_big_batch_runs_in_chunks_with_the_same_result(files):
    vae, _ = onnx_file.load(files["conv"], "conv.onnx")
    z = torch.randn(40, LATENT, generator=torch.Generator().manual_seed(4))
    whole = vae.decode(z)
    object.__setattr__(vae._decoder, "largest", onnx_file.MAX_BATCH_ELEMENTS // 3)  # chunks of 3
    assert vae._decoder.chunk == 3
    np.testing.assert_array_equal(vae.decode(z).numpy(), whole.numpy())


# -- what an attacker's files do -----------------------------------------------------------------
def tiny(nodes=None, initializers=None, output_dims=("batch", 8, 8)):
    """A hand-made decoder: z [batch, LATENT] → MatMul → Reshape → output_dims."""
    nodes = nodes or [
        helper.make_node("MatMul", ["z", "w"], ["flat"]),
        helper.make_node("Reshape", ["flat", "shape"], ["image"]),
    ]
    if initializers is None:
        initializers = [
            numpy_helper.from_array(np.full((LATENT, 64), 0.1, np.float32), "w"),
            numpy_helper.from_array(np.array([-1, 8, 8], np.int64), "shape"),
        ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", LATENT])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, list(output_dims))],
        initializers,
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def save(model: onnx.ModelProto, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path


def external(model: onnx.ModelProto, location: str, offset: int = 0, length: int = 4 * LATENT * 64):
    """Make the weight "w" point at ``location`` instead of holding its bytes."""
    w = next(t for t in model.graph.initializer if t.name == "w")
    w.ClearField("raw_data")
    w.ClearField("float_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in {"location": location, "offset": str(offset), "length": str(length)}.items():
        w.external_data.add(key=key, value=value)
    return model


def test_the_hand_made_decoder_opens(tmp_path):
    vae, info = onnx_file.load(save(tiny(), tmp_path / "tiny.onnx"), "tiny.onnx")
    assert info.image_shape == (1, 8, 8)
    np.testing.assert_allclose(vae.decode(torch.ones(1, LATENT)).numpy(), 0.6, rtol=1e-6)


def test_weights_from_a_plain_file_beside_it_are_read(tmp_path):
    (tmp_path / "w.bin").write_bytes(np.full((LATENT, 64), 0.1, np.float32).tobytes())
    path = save(external(tiny(), "w.bin"), tmp_path / "tiny.onnx")
    vae, _ = onnx_file.load(path, str(path))
    np.testing.assert_allclose(vae.decode(torch.ones(1, LATENT)).numpy(), 0.6, rtol=1e-6)


@pytest.fixture
def secret(tmp_path) -> Path:
    """A file outside the model's folder that a model must never read."""
    path = tmp_path / "secret.bin"
    path.write_bytes(np.full((LATENT, 64), 0.9, np.float32).tobytes())
    (tmp_path / "models").mkdir()
    return path


@pytest.mark.parametrize(
    "location, message",
    [
        ("../secret.bin", "outside its own folder"),
        ("{secret}", "outside its own folder"),  # absolute
        ("sub/../../secret.bin", "outside its own folder"),
        ("link.bin", "it is a link"),
        ("missing.bin", "cannot be read"),
        ("", "outside its own folder"),
    ],
)
def test_weights_outside_the_folder_are_never_read(secret, location, message):
    folder = secret.parent / "models"
    (folder / "link.bin").symlink_to(secret)
    path = save(external(tiny(), location.format(secret=secret)), folder / "evil.onnx")
    with pytest.raises(CheckpointError, match=message) as caught:
        onnx_file.load(path, str(path))
    assert "\n" not in str(caught.value)


def test_weights_past_the_end_of_their_file_are_refused(tmp_path):
    (tmp_path / "w.bin").write_bytes(b"\0" * 16)
    path = save(external(tiny(), "w.bin", offset=8), tmp_path / "tiny.onnx")
    with pytest.raises(CheckpointError, match="past the end"):
        onnx_file.load(path, str(path))


def test_a_custom_operator_is_refused(tmp_path):
    nodes = [
        helper.make_node("MatMul", ["z", "w"], ["flat"]),
        helper.make_node("Steal", ["flat"], ["image"], domain="com.evil"),
    ]
    model = tiny(nodes)
    model.opset_import.append(helper.make_opsetid("com.evil", 1))
    with pytest.raises(CheckpointError, match=r"Steal of the domain com\.evil"):
        onnx_file.load(save(model, tmp_path / "evil.onnx"), "evil.onnx")


def test_control_flow_is_refused(tmp_path):
    branch = helper.make_graph(
        [helper.make_node("Identity", ["z"], ["out"])], "branch", [],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
    )  # fmt: skip
    true = helper.make_tensor("c", TensorProto.BOOL, [], [True])
    nodes = [
        helper.make_node("Constant", [], ["cond"], value=true),
        helper.make_node("If", ["cond"], ["image"], then_branch=branch, else_branch=branch),
    ]
    with pytest.raises(CheckpointError, match="control flow"):
        onnx_file.load(save(tiny(nodes, []), tmp_path / "loop.onnx"), "loop.onnx")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "not an ONNX model"),
        (b"\x08\x07\x12\x04junk" + bytes(range(256)) * 4, "not an ONNX model"),
        ("truncated", "not an ONNX model"),
    ],
)
def test_a_file_that_is_not_onnx_gets_one_line(tmp_path, data, message):
    if data == "truncated":
        data = tiny().SerializeToString()[:-40]
    path = tmp_path / "bad.onnx"
    path.write_bytes(data)
    with pytest.raises(CheckpointError, match=message):
        onnx_file.load(path, str(path))


def test_a_tensor_too_big_to_make_is_refused_before_anything_runs(tmp_path):
    """ConstantOfShape with a constant shape of 2**31 values: a memory bomb of 8 GB."""
    nodes = [
        helper.make_node("MatMul", ["z", "w"], ["flat"]),
        helper.make_node("ConstantOfShape", ["huge"], ["bomb"]),
        helper.make_node("Reshape", ["flat", "shape"], ["image"]),
    ]
    initializers = [
        numpy_helper.from_array(np.full((LATENT, 64), 0.1, np.float32), "w"),
        numpy_helper.from_array(np.array([-1, 8, 8], np.int64), "shape"),
        numpy_helper.from_array(np.array([2**16, 2**15], np.int64), "huge"),
    ]
    model = tiny(nodes, initializers)
    model.graph.output.append(helper.make_tensor_value_info("bomb", TensorProto.FLOAT, None))
    with pytest.raises(CheckpointError, match="2,147,483,648 values per image"):
        onnx_file.load(save(model, tmp_path / "bomb.onnx"), "bomb.onnx")


def test_a_size_that_follows_from_z_values_is_refused(tmp_path):
    """Range(0, z·10⁹): a size no graph check can know, which only z decides."""
    nodes = [
        helper.make_node("ReduceMax", ["z"], ["top"], keepdims=0),
        helper.make_node("Cast", ["top"], ["end"], to=TensorProto.INT64),
        helper.make_node("Range", ["zero", "end", "one"], ["span"]),
        helper.make_node("Cast", ["span"], ["image"], to=TensorProto.FLOAT),
    ]
    initializers = [
        numpy_helper.from_array(np.array(0, np.int64), "zero"),
        numpy_helper.from_array(np.array(1, np.int64), "one"),
    ]
    model = tiny(nodes, initializers, output_dims=("batch", 8, 8))  # claims a harmless size
    with pytest.raises(CheckpointError, match="cannot be known from the graph"):
        onnx_file.load(save(model, tmp_path / "r.onnx"), "r.onnx")


def test_a_shape_taken_from_z_values_is_refused_whatever_the_file_claims(tmp_path):
    """ConstantOfShape(z·10⁹ as int64): the output claims [batch, 8, 8], but only z decides."""
    nodes = [
        helper.make_node("Mul", ["z", "big"], ["scaled"]),
        helper.make_node("Cast", ["scaled"], ["dims"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["dims", "flat"], ["shape"]),
        helper.make_node("Slice", ["shape", "start", "stop"], ["some"]),
        helper.make_node("ConstantOfShape", ["some"], ["image"]),
    ]
    initializers = [
        numpy_helper.from_array(np.array(1e9, np.float32), "big"),
        numpy_helper.from_array(np.array([-1], np.int64), "flat"),
        numpy_helper.from_array(np.array([0], np.int64), "start"),
        numpy_helper.from_array(np.array([3], np.int64), "stop"),
    ]
    model = tiny(nodes, initializers, output_dims=("batch", 8, 8))
    with pytest.raises(CheckpointError, match="cannot be known from the graph"):
        onnx_file.load(save(model, tmp_path / "c.onnx"), "c.onnx")


def test_too_many_weights_are_refused_before_they_are_read(tmp_path):
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[LATENT, 2**24])  # no data
    model = tiny(initializers=[w, numpy_helper.from_array(np.array([-1, 8, 8], np.int64), "shape")])
    with pytest.raises(CheckpointError, match="weights; at most"):
        onnx_file.load(save(model, tmp_path / "fat.onnx"), "fat.onnx")


@pytest.mark.parametrize(
    "output_dims, message",
    [
        (("batch", 4, 8, 8), "grey \\(1 channel\\) or RGB \\(3\\), not 4"),
        (("batch", 1024, 1024), "sides must be 8 to 512"),
        (("batch", 64), "\\[batch, C, H, W\\] or \\[batch, H, W\\]"),
    ],
)
def test_images_of_an_unusable_shape_are_refused(tmp_path, output_dims, message):
    size = int(np.prod(output_dims[1:]))
    initializers = [
        numpy_helper.from_array(np.full((LATENT, size), 0.1, np.float32), "w"),
        numpy_helper.from_array(np.array([-1, *output_dims[1:]], np.int64), "shape"),
    ]
    model = tiny(initializers=initializers, output_dims=output_dims)
    with pytest.raises(CheckpointError, match=message):
        onnx_file.load(save(model, tmp_path / "shape.onnx"), "shape.onnx")


def test_a_fixed_batch_is_refused_with_the_way_to_export(tmp_path):
    model = tiny()
    model.graph.input[0].type.tensor_type.shape.dim[0].Clear()
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1
    with pytest.raises(CheckpointError, match="dynamic batch axis"):
        onnx_file.load(save(model, tmp_path / "fixed.onnx"), "fixed.onnx")


def test_a_file_too_large_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    monkeypatch.setattr(onnx_file, "MAX_MODEL_BYTES", 100)
    with pytest.raises(CheckpointError, match="too large"):
        onnx_file.load(save(tiny(), tmp_path / "big.onnx"), "big.onnx")


def test_a_fifo_in_place_of_the_model_does_not_hang(tmp_path):
    path = tmp_path / "pipe.onnx"
    os.mkfifo(path)
    with pytest.raises(CheckpointError, match="not a regular file"):
        onnx_file.load(path, str(path))


def test_a_tensor_that_grows_with_the_batch_squared_is_refused(tmp_path):
    """z·zᵀ is [batch, batch]: one value for one image, 90,000 for the 300 of a view's grid."""
    nodes = [
        helper.make_node("Transpose", ["z"], ["zt"]),
        helper.make_node("MatMul", ["z", "zt"], ["square"]),
        helper.make_node("MatMul", ["z", "w"], ["flat"]),
        helper.make_node("Reshape", ["flat", "shape"], ["image"]),
    ]
    model = tiny(nodes)
    model.graph.output.append(helper.make_tensor_value_info("square", TensorProto.FLOAT, None))
    with pytest.raises(CheckpointError, match="grows faster than the batch"):
        onnx_file.load(save(model, tmp_path / "square.onnx"), "square.onnx")


# -- through the explorer's own doors ------------------------------------------------------------
class EncoderOf(nn.Module):
    """A VAE's encoder as its own module, for export."""

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, x):
        return self.vae.encode(x)


def test_the_zoo_model_exported_to_onnx_explores_as_the_zoo_model(tmp_path):
    """mnist-beta1's decoder and encoder as ONNX files: the app's model decodes and encodes as
    the torch checkpoint does."""
    torch_vae = checkpoint.load("mnist-beta1").model
    path = tmp_path / "mnist.onnx"
    export(torch_vae.decoder, path, torch.zeros(2, 12))
    model = onnx.load(path)
    helper.set_model_props(
        model, {"vae_explorer.output": "sigmoid", "vae_explorer.dataset": "mnist"}
    )
    onnx.save(model, path)
    export(EncoderOf(torch_vae).eval(), tmp_path / "mnist.encoder.onnx", torch.rand(2, 1, 28, 28))
    ours, theirs = LatentModel(checkpoint=str(path)), LatentModel(checkpoint="mnist-beta1")
    assert ours.message == "" and ours.info.format == "onnx" and ours.info.dataset == "mnist"
    for latent in (ours, theirs):
        latent.param.update(mu=[0.5] * 12, seed=7)
    np.testing.assert_allclose(ours.image, theirs.image, rtol=0, atol=1e-5)
    x = torch.from_numpy(theirs.image)[None, None]
    for got, want in zip(ours.vae.encode(x), torch_vae.encode(x), strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-5)


def test_checkpoint_load_opens_onnx_paths_and_one_file_uploads(files):
    loaded = checkpoint.load(files["mlp"])
    assert loaded.info.format == "onnx" and loaded.info.source == str(files["mlp"])
    uploaded = checkpoint.load_bytes(files["mlp"].read_bytes(), "mine.onnx")
    assert uploaded.info.source == "upload:mine.onnx"
    z = z_batch()
    np.testing.assert_array_equal(loaded.model.decode(z).numpy(), uploaded.model.decode(z).numpy())


def test_the_cli_describes_an_onnx_model(files):
    result = subprocess.run(
        [Path(sys.executable).with_name("vae-explorer"), "info", files["conv"]],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert (facts["format"], facts["image_shape"], facts["latent_dim"]) == ("onnx", [3, 64, 64], 6)


def test_a_broken_onnx_file_gets_one_line_from_the_cli(tmp_path):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x08\x07junk")
    result = subprocess.run(
        [Path(sys.executable).with_name("vae-explorer"), "info", path],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "not an ONNX model" in result.stderr


def test_a_graph_that_takes_too_long_to_decode_is_refused(tmp_path):
    """Few weights, much work: a 9×9 convolution of 128 channels over 256×256 asks for 11 GFLOP
    per image (with 83 k weights); a slider would decode it on every move."""
    nodes = [
        helper.make_node("MatMul", ["z", "w"], ["flat"]),
        helper.make_node("Reshape", ["flat", "shape"], ["small"]),
        helper.make_node("Resize", ["small", "", "scales"], ["big"], mode="nearest"),
        helper.make_node("Conv", ["big", "k"], ["conv"], pads=[4, 4, 4, 4]),
        helper.make_node("ReduceMean", ["conv"], ["image"], axes=[1], keepdims=0),
    ]
    initializers = [
        numpy_helper.from_array(np.full((LATENT, 128 * 8 * 8), 0.1, np.float32), "w"),
        numpy_helper.from_array(np.array([-1, 128, 8, 8], np.int64), "shape"),
        numpy_helper.from_array(np.array([1, 1, 32, 32], np.float32), "scales"),
        numpy_helper.from_array(np.zeros((8, 128, 9, 9), np.float32), "k"),
    ]
    model = tiny(nodes, initializers, output_dims=("batch", 256, 256))
    with pytest.raises(CheckpointError, match="GFLOP to decode one image"):
        onnx_file.load(save(model, tmp_path / "slow.onnx"), "slow.onnx")
