"""The VAE network, its reparameterization, KL term and loss (explorer.model)."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal
from torch.distributions import kl_divergence as torch_kl

from explorer.model import VAE, VAEConfig, kl_divergence, vae_loss


def make_model(latent_dim=4, output="sigmoid", seed=0) -> VAE:
    torch.manual_seed(seed)
    return VAE(VAEConfig(latent_dim=latent_dim, output=output)).eval()


@pytest.mark.parametrize("latent_dim", [1, 2, 12, 128])
def test_shapes(latent_dim):
    model = make_model(latent_dim)
    x = torch.rand(3, 1, 28, 28)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (3, latent_dim)
    z = model.reparameterize(mu, logvar)
    assert z.shape == (3, latent_dim)
    assert model.decode_raw(z).shape == model.decode(z).shape == (3, 1, 28, 28)
    raw, mu2, logvar2 = model(x)
    assert raw.shape == (3, 1, 28, 28)
    assert mu2.shape == logvar2.shape == (3, latent_dim)
    assert model.latent_dim == latent_dim


@pytest.mark.parametrize("output", ["sigmoid", "linear"])
@pytest.mark.parametrize("bias", [-3.0, 3.0])
def test_decode_is_in_unit_range(output, bias):
    """Push the raw output far below 0 or above 1: decode still shows images in [0, 1]."""
    model = make_model(6, output)
    with torch.no_grad():
        model.decoder.deconv3.bias.fill_(bias)
    z = 3 * torch.randn(16, 6, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        raw, image = model.decode_raw(z), model.decode(z)
    outside = (raw < 0) | (raw > 1)
    assert outside.float().mean() > 0.5  # the test does exercise out-of-range raw values
    assert image.min() >= 0 and image.max() <= 1
    expected = torch.sigmoid(raw) if output == "sigmoid" else raw.clamp(0, 1)
    assert torch.equal(image, expected)
    if output == "linear":
        assert torch.equal(image[raw > 1], torch.ones_like(image[raw > 1]))
        assert torch.equal(image[raw < 0], torch.zeros_like(image[raw < 0]))


def test_reparameterize_is_deterministic_with_a_seeded_generator():
    mu = torch.tensor([[0.5, -1.0, 2.0]])
    logvar = torch.tensor([[0.0, -1.0, 1.0]])
    a = VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(7))
    b = VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(7))
    c = VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(a, mu + torch.exp(0.5 * logvar) * eps)


def test_reparameterize_equals_mu_when_variance_vanishes():
    mu = torch.tensor([[0.5, -1.0, 2.0], [3.0, 0.0, -0.25]])
    z = VAE.reparameterize(mu, torch.full_like(mu, -1e4), torch.Generator().manual_seed(0))
    assert torch.equal(z, mu)


def test_reparameterize_is_differentiable_in_mu_and_logvar():
    mu = torch.zeros(2, 3, requires_grad=True)
    logvar = torch.zeros(2, 3, requires_grad=True)
    VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(0)).pow(2).sum().backward()
    assert mu.grad is not None and mu.grad.abs().sum() > 0
    assert logvar.grad is not None and logvar.grad.abs().sum() > 0


def test_forward_samples_in_training_and_uses_mu_in_eval():
    model = make_model(5)
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        raw_a, mu, _ = model(x)
        raw_b, _, _ = model(x)
        assert torch.equal(raw_a, raw_b)
        assert torch.equal(raw_a, model.decode_raw(mu))
        model.train()
        torch.manual_seed(0)
        raw_c, _, _ = model(x)
        assert not torch.allclose(raw_c, raw_a)


def test_kl_is_zero_at_the_prior():
    kl = kl_divergence(torch.zeros(4, 3), torch.zeros(4, 3))
    assert kl.shape == (4, 3)
    assert torch.equal(kl, torch.zeros(4, 3))


def test_kl_is_positive_away_from_the_prior():
    gen = torch.Generator().manual_seed(3)
    mu = torch.randn(50, 8, generator=gen)
    logvar = torch.randn(50, 8, generator=gen)
    assert (kl_divergence(mu, logvar) > 0).all()
    assert (kl_divergence(mu, torch.zeros_like(mu)) > 0).all()  # μ ≠ 0 alone
    assert (kl_divergence(torch.zeros_like(mu), logvar) > 0).all()  # σ ≠ 1 alone


def test_kl_matches_the_closed_form():
    # KL(N(μ, σ²) ‖ N(0, 1)) = ½ (μ² + σ² − 1 − ln σ²), worked by hand:
    #   μ=1, σ²=1:     ½ (1 + 1 − 1 − 0)          = 0.5
    #   μ=0, σ²=2:     ½ (0 + 2 − 1 − ln 2)       = 0.15342640972002736
    #   μ=2, σ²=1/4:   ½ (4 + 0.25 − 1 + ln 4)    = 2.3181471805599454
    #   μ=−3, σ²=e:    ½ (9 + e − 1 − 1)          = 4.859140914229523
    mu = torch.tensor([1.0, 0.0, 2.0, -3.0], dtype=torch.float64)
    logvar = torch.tensor([0.0, math.log(2), math.log(0.25), 1.0], dtype=torch.float64)
    expected = torch.tensor(
        [0.5, 0.15342640972002736, 2.3181471805599454, 4.859140914229523], dtype=torch.float64
    )
    torch.testing.assert_close(kl_divergence(mu, logvar), expected, rtol=0, atol=1e-12)
    # and torch's own KL between the two normals agrees
    q = Normal(mu, torch.exp(0.5 * logvar))
    prior = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    torch.testing.assert_close(kl_divergence(mu, logvar), torch_kl(q, prior))


def _batch(n=5, latent_dim=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 28, 28, generator=gen)
    raw = 2 * torch.randn(n, 1, 28, 28, generator=gen)
    mu = torch.randn(n, latent_dim, generator=gen)
    logvar = torch.randn(n, latent_dim, generator=gen)
    return x, raw, mu, logvar


@pytest.mark.parametrize("output", ["sigmoid", "linear"])
def test_loss_terms_match_torch_per_image(output):
    config = VAEConfig(latent_dim=4, output=output)
    x, raw, mu, logvar = _batch()
    loss = vae_loss(config, x, raw, mu, logvar, beta=4.0)
    if output == "sigmoid":  # binary cross-entropy of the probabilities, summed over pixels
        per_pixel = F.binary_cross_entropy(torch.sigmoid(raw), x, reduction="none")
    else:  # squared error of the raw values
        per_pixel = F.mse_loss(raw, x, reduction="none")
    rec = per_pixel.flatten(1).sum(1).mean()
    q = Normal(mu, torch.exp(0.5 * logvar))
    kl = torch_kl(q, Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(1).mean()
    torch.testing.assert_close(loss.reconstruction, rec, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(loss.kl, kl, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(loss.total, rec + 4.0 * kl, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("output", ["sigmoid", "linear"])
def test_loss_is_averaged_over_images(output):
    """The same images twice give the same loss: a mean per image, not a sum over the batch."""
    config = VAEConfig(latent_dim=4, output=output)
    one = vae_loss(config, *_batch(), beta=2.0)
    two = vae_loss(config, *(torch.cat([t, t]) for t in _batch()), beta=2.0)
    for a, b in [(one.total, two.total), (one.reconstruction, two.reconstruction)]:
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(one.kl, two.kl)
    assert one.reconstruction > 0 and one.kl > 0


def test_loss_beta_weights_the_kl_term():
    config = VAEConfig(latent_dim=4)
    batch = _batch()
    low, high = vae_loss(config, *batch, beta=0.1), vae_loss(config, *batch, beta=10.0)
    torch.testing.assert_close(high.total - low.total, 9.9 * low.kl)


def test_loss_backpropagates_into_the_model():
    model = make_model(3).train()
    x = torch.rand(4, 1, 28, 28)
    raw, mu, logvar = model(x)
    vae_loss(model.config, x, raw, mu, logvar).total.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.encoder.fc_logvar.weight.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"latent_dim": 0}, "latent_dim"),
        ({"latent_dim": -3}, "latent_dim"),
        ({"latent_dim": 4097}, "latent_dim"),
        ({"latent_dim": 2.5}, "latent_dim"),
        ({"latent_dim": "12"}, "latent_dim"),
        ({"latent_dim": True}, "latent_dim"),
        ({"output": "tanh"}, "output"),
        ({"output": None}, "output"),
        ({"image_size": 8}, "image_size"),
        ({"image_size": 129}, "image_size"),
        ({"image_size": 28.0}, "image_size"),
        ({"channels": 2}, "channels"),
        ({"channels": 3.0}, "channels"),
    ],
)
def test_invalid_config_raises(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VAEConfig(**kwargs)


def test_config_round_trips_through_its_dict():
    config = VAEConfig(latent_dim=7, output="linear")
    assert config.to_dict() == {
        "latent_dim": 7, "output": "linear", "image_size": 28, "channels": 1
    }  # fmt: skip
    assert VAEConfig(**config.to_dict()) == config
    assert VAE(config).config is config


def test_init_weights_is_the_original_apps():
    torch.manual_seed(0)
    model = VAE(VAEConfig(latent_dim=12))
    default = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(0)
    assert model.init_weights() is model
    for layer in (model.encoder.conv2, model.decoder.deconv2, model.decoder.deconv3):
        weight = layer.weight
        # kaiming_normal_(fan_out): fan_out = size(0) · kernel area, std = sqrt(2 / fan_out)
        fan_out = weight.shape[0] * weight[0, 0].numel()
        assert weight.std().item() == pytest.approx(math.sqrt(2 / fan_out), rel=0.15)
        assert torch.count_nonzero(layer.bias) == 0
    for layer in (model.encoder.fc_mu, model.encoder.fc_logvar, model.decoder.fc):
        assert layer.weight.mean().item() == pytest.approx(0.0, abs=1e-3)
        assert layer.weight.std().item() == pytest.approx(0.01, rel=0.05)
        assert torch.count_nonzero(layer.bias) == 0
    for layer in (model.encoder.bn1, model.decoder.bn2):
        assert torch.equal(layer.weight, torch.ones_like(layer.weight))
        assert torch.count_nonzero(layer.bias) == 0
    assert not torch.equal(default["decoder.fc.weight"], model.decoder.fc.weight)
    # A new VAE keeps PyTorch's default: seeded construction is what checkpoints and tests rely on.
    torch.manual_seed(0)
    again = VAE(VAEConfig(latent_dim=12)).state_dict()
    assert all(torch.equal(again[k], v) for k, v in default.items())


@pytest.mark.parametrize("output", ["sigmoid", "linear"])
def test_sample_decodes_the_prior(output):
    model = make_model(5, output)
    images = model.sample(7, generator=torch.Generator().manual_seed(3))
    assert images.shape == (7, 1, 28, 28) and not images.requires_grad
    assert images.min() >= 0.0 and images.max() <= 1.0
    z = torch.randn(7, 5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(images, model.decode(z))
    assert model.sample(2).shape == (2, 1, 28, 28)  # unseeded, as the original's


@pytest.mark.parametrize(
    ("size", "channels", "sides", "widths"),
    [
        (28, 1, [28, 14, 7, 4], [16, 32, 64]),  # the original's network
        (16, 1, [16, 8, 4], [16, 32]),
        (64, 3, [64, 32, 16, 8, 4], [16, 32, 64, 128]),
        (100, 3, [100, 50, 25, 13, 7, 4], [16, 32, 64, 128, 256]),
    ],
)
def test_the_family_follows_the_image_size(size, channels, sides, widths):
    """Depth and widths follow from the side; every transposed convolution restores the side its
    convolution halved, so the decoder gives back the image's shape exactly."""
    config = VAEConfig(latent_dim=5, image_size=size, channels=channels)
    assert (config.sides, config.widths) == (sides, widths)
    vae = VAE(config).eval()
    x = torch.rand(2, channels, size, size)
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (2, 5)
    assert vae.decode(mu).shape == x.shape and vae.image_shape == (channels, size, size)
