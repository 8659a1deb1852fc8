"""Hostile and broken input through the browser: each gets a one-line message, nothing breaks."""

from __future__ import annotations

import os
import pickle

import pytest
import torch
from test_browser import BARS, App

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


class Canary:
    """Unpickling this would create a file: proof that a pickle's code never ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.makedirs, (self.path,))


@pytest.fixture(scope="module")
def server(start_server, ckpt12):
    return start_server("--checkpoint", str(ckpt12))


def bad_files(folder, good) -> dict[str, tuple[str, str]]:
    """name → (path to type in, a word the message must contain)."""
    canary = folder / "canary-was-run"
    (folder / "a-directory").mkdir()
    (folder / "empty.pth").write_bytes(b"")
    data = good.read_bytes()
    (folder / "truncated.pth").write_bytes(data[: len(data) // 2])
    (folder / "corrupt.pth").write_bytes(os.urandom(4096))
    torch.save(torch.zeros(3), folder / "tensor.pth")
    torch.save(
        {"model_state_dict": {"encoder.fc_mu.weight": torch.zeros(12, 5)}}, folder / "shape.pth"
    )
    with (folder / "evil.pth").open("wb") as handle:
        pickle.dump({"model_state_dict": Canary(canary)}, handle, protocol=2)
    return {
        "missing": (str(folder / "nope.pth"), "not found"),
        "directory": (str(folder / "a-directory"), "directory"),
        "empty": (str(folder / "empty.pth"), "empty"),
        "truncated": (str(folder / "truncated.pth"), "truncated"),
        "corrupt": (str(folder / "corrupt.pth"), "corrupt.pth"),
        "not a checkpoint": (str(folder / "tensor.pth"), "not a VAE checkpoint"),
        "wrong shape": (str(folder / "shape.pth"), "shape.pth"),
        "malicious": (str(folder / "evil.pth"), "refused"),
    }


def test_each_bad_checkpoint_shows_message_and_app_keeps_working(browser, server, tmp_path, ckpt12):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    app = App(page, server.url)
    path_input = page.locator(".latent-path input").first
    for name, (path, word) in bad_files(tmp_path, ckpt12).items():
        path_input.fill(path)
        path_input.press("Enter")
        shown = page.locator(".latent-error").get_by_text(word).first
        shown.wait_for(timeout=10000)
        text = shown.inner_text().strip()
        assert "\n" not in text, (name, text)
        before = app.image()
        app.press("latent-mu-0", key="ArrowRight" if len(name) % 2 else "ArrowLeft", times=3)
        app.wait_image_change(before)  # still decoding with the previous model
    assert not (tmp_path / "canary-was-run").exists()
    assert app.errors == []
    page.context.close()


def test_upload_checkpoint(browser, server, ckpt20, tmp_path):
    page = browser.new_context().new_page()
    app = App(page, server.url)
    page.locator(".latent-upload input[type=file]").set_input_files(str(ckpt20))
    page.wait_for_function(f"() => ({BARS})().length === 20", timeout=15000)
    page.locator(".latent-info").get_by_text("random20.pth").wait_for(timeout=10000)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x80\x02garbage")
    page.locator(".latent-upload input[type=file]").set_input_files(str(garbage))
    page.locator(".latent-error").get_by_text("garbage.pth").wait_for(timeout=10000)
    assert len(page.evaluate(BARS)) == 20  # still the uploaded model
    assert app.errors == []
    page.context.close()


def test_zoo_only_hides_paths(browser, start_server):
    server = start_server("--zoo-only")
    page = browser.new_context().new_page()
    App(page, server.url)
    assert page.locator(".latent-path").count() == 0
    assert page.locator(".latent-upload").count() == 1
    page.context.close()


def test_checkpoint_dir_confines_paths(browser, start_server, tmp_path, checkpoint_factory):
    allowed = tmp_path / "models"
    allowed.mkdir()
    inside = checkpoint_factory("models/inside.pth", 20)
    outside = checkpoint_factory("secret.pth", 20)
    server = start_server("--checkpoint-dir", str(allowed))
    page = browser.new_context().new_page()
    App(page, server.url)
    path_input = page.locator(".latent-path input").first
    error = page.locator(".latent-error").first
    attempts = [str(outside), str(allowed / ".." / "secret.pth"), str(tmp_path / "nope.pth")]
    for attempt, zoo_model in zip(
        attempts, ["mnist-beta10", "mnist-beta1", "mnist-beta10"], strict=True
    ):
        page.locator(".latent-zoo select").first.select_option(zoo_model)  # clears the error
        error.wait_for(state="hidden", timeout=10000)
        path_input.fill(attempt)
        path_input.press("Enter")
        page.locator(".latent-error").get_by_text(
            "not in this server's checkpoint folders"
        ).wait_for(timeout=10000)
        shown = page.locator(".latent-error").get_by_text("checkpoint folders").first
        assert "secret" not in shown.inner_text()
        assert len(page.evaluate(BARS)) == 12
    path_input.fill(str(inside))
    path_input.press("Enter")
    page.wait_for_function(f"() => ({BARS})().length === 20", timeout=15000)
    page.context.close()


def test_uploads_over_the_limit_or_empty_are_refused_in_the_browser(browser, start_server, ckpt20):
    """A file over the websocket's message limit (20 MB) would drop the session unannounced: the
    page refuses it before sending, says so, and the session goes on."""
    server = start_server("--max-upload-mb", "1")
    page = browser.new_context().new_page()
    app = App(page, server.url)
    upload = page.locator(".latent-upload input[type=file]")
    huge = {
        "name": "huge.pth",
        "mimeType": "application/octet-stream",
        "buffer": b"\0" * 25_000_000,
    }
    upload.set_input_files(huge)
    page.locator(".latent-error").get_by_text(
        "huge.pth is too large (23.8 MB; limit 1 MB)"
    ).wait_for(timeout=10000)
    before = app.image()
    app.press("latent-mu-0", times=3)
    app.wait_image_change(before)  # the session is alive and decoding
    upload.set_input_files({"name": "empty.pth", "mimeType": "text/plain", "buffer": b""})
    page.locator(".latent-error").get_by_text("empty.pth is empty").wait_for(timeout=10000)
    upload.set_input_files(str(ckpt20))  # a good file under the limit still loads
    page.wait_for_function(f"() => ({BARS})().length === 20", timeout=15000)
    assert app.errors == []
    assert "huge.pth" not in server.logs()  # nothing of it reached the server but its name
    page.context.close()
