"""Heavy work off the Bokeh event loop: loads, view renders and downloads run in worker threads.

Three levels. ``Background`` on its own, with real worker threads and a stand-in for a served
session's Document whose next-tick callbacks the test runs (as the server's event loop would):
the latest run of a key wins, errors reach ``failed``, a session that has gone drops its result.
``LatentModel``'s two-part load: reading writes no parameter, applying shows the model. And a
real `panel serve` process with two Bokeh client sessions: while A's load of a big checkpoint
is under way ("Loading …" shown), B's slider moves still come back, and then A's result, or its
error, shows; and the same in headless Chromium, as a user sees it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import queue
import threading
import zipfile

import numpy as np
import panel.models  # noqa: F401  (registers Panel's Bokeh models: the pulled document needs them)
import protocol_client
import pytest
import torch
from conftest import run_async
from pagejs import FIND, IMAGE
from panel.io.state import set_curdoc
from panel.models.widgets import EnterEvent

import explorer.app.explorer  # noqa: F401  (registers the app's own Bokeh models too)
from explorer import checkpoint as ckpt
from explorer.app.background import Background
from explorer.latent.space import LatentModel
from explorer.model import VAE, VAEConfig

TIMEOUT = 60.0
BARS = f"""() => Array.from(({FIND})('latent-bars-source').data.z)"""


# -- Background --------------------------------------------------------------------------------
class SessionDoc:
    """Stands in for a served session's Document: next-tick callbacks wait in a queue until the
    test runs them, in its own thread, as the server's event loop would."""

    session_context = object()  # "served"

    def __init__(self):
        self.ticks: queue.Queue = queue.Queue()
        self.gone = False

    def add_next_tick_callback(self, callback) -> None:
        if self.gone:  # what Bokeh says once a session's Document is destroyed
            raise RuntimeError("Attempting to add session callback to already-destroyed Document")
        self.ticks.put(callback)

    def run_next_tick(self) -> None:
        self.ticks.get(timeout=TIMEOUT)()


@pytest.fixture
def served():
    doc = SessionDoc()
    with set_curdoc(doc):
        yield doc


def test_work_runs_in_a_worker_thread_and_its_result_is_applied_on_the_loop(served):
    seen = {}

    def work():
        seen["work"] = threading.current_thread().name, torch.is_inference_mode_enabled()
        return 42

    Background().run(work, lambda result: seen.update(apply=(threading.current_thread(), result)))
    assert "apply" not in seen  # not before the loop's turn
    served.run_next_tick()
    assert seen["work"][0].startswith("vae-explorer-background") and seen["work"][1]
    assert seen["apply"] == (threading.current_thread(), 42)


def test_the_latest_run_of_a_key_wins(served):
    background, applied, gate = Background(), [], threading.Event()
    background.run(lambda: gate.wait(TIMEOUT) and "first", applied.append, key="load")
    background.run(lambda: "second", applied.append, key="load")
    assert background.pending("load")
    served.run_next_tick()  # the second is done first
    assert applied == ["second"] and not background.pending("load")
    gate.set()
    served.run_next_tick()  # the first comes back later: stale, dropped
    assert applied == ["second"]


def test_runs_of_other_keys_do_not_supersede_each_other(served):
    background, applied = Background(), set()
    background.run(lambda: "a", applied.add, key="a")
    background.run(lambda: "b", applied.add, key="b")
    served.run_next_tick()
    served.run_next_tick()
    assert applied == {"a", "b"}


def test_errors_reach_failed_and_a_failing_apply_is_logged_not_raised(served, caplog):
    background, failures = Background(), []
    background.run(lambda: 1 / 0, lambda _result: None, failures.append)
    served.run_next_tick()
    assert [type(error) for error in failures] == [ZeroDivisionError]

    def apply(_result):
        raise ValueError("a bug in apply")

    background.run(lambda: 1, apply)
    with caplog.at_level(logging.ERROR, logger="explorer.app.background"):
        served.run_next_tick()  # never raises into Bokeh's callback
    assert "a bug in apply" in caplog.text


def test_a_session_that_has_gone_drops_the_result_quietly(served, caplog):
    background, applied, gate = Background(), [], threading.Event()
    done = threading.Event()

    def work():
        gate.wait(TIMEOUT)
        return "late"

    background.run(work, applied.append)
    served.gone = True
    background.run(lambda: done.set(), applied.append, key="probe")  # fails to come back too
    gate.set()
    assert done.wait(TIMEOUT)
    assert served.ticks.empty() and applied == [] and caplog.text == ""


def test_without_a_session_both_parts_run_at_once():
    seen = []
    Background().run(lambda: threading.current_thread(), seen.append)
    assert seen == [threading.current_thread()]
    failures = []
    Background().run(lambda: 1 / 0, seen.append, failures.append)
    assert len(failures) == 1


# -- LatentModel's two-part load ---------------------------------------------------------------
def test_reading_writes_no_parameter_and_applying_shows_the_model(ckpt20):
    model = LatentModel(checkpoint="mnist-beta1", rng_seed=0)
    image, events = model.image.copy(), []
    model.param.watch(lambda *changes: events.extend(changes), list(model.param))
    requests = []
    with model.loading_with(lambda *request: requests.append(request)):
        model.checkpoint = str(ckpt20)
    ((source, read, apply, _failed),) = requests
    assert source == str(ckpt20)
    loaded = read()  # what a worker thread does meanwhile
    assert [event.name for event in events] == ["checkpoint"]  # the request, nothing else
    assert model.info.name == "mnist-beta1" and np.array_equal(model.image, image)
    model.set_value("mu", 0, 1.5)  # the session goes on with the model it has
    apply(loaded)
    assert model.info.latent_dim == 20 and len(model.mu) == 20 and model.mu[0] == 1.5
    assert model.image.shape == (28, 28) and model.message == ""


def test_a_failed_read_keeps_the_model_and_says_why_in_one_line(tmp_path):
    model = LatentModel(checkpoint="mnist-beta1", rng_seed=0)
    requests = []
    with model.loading_with(lambda *request: requests.append(request)):
        model.checkpoint = str(tmp_path / "missing.pth")
    ((_, read, _, failed),) = requests
    with pytest.raises(ckpt.CheckpointError) as caught:
        read()
    failed(caught.value)
    assert model.info.name == "mnist-beta1" and "missing.pth" in model.message
    assert "\n" not in model.message


def test_loads_outside_a_runner_stay_synchronous_and_a_snapshot_is_detached():
    model = LatentModel(checkpoint="mnist-beta10", rng_seed=0)  # scripts and notebooks
    assert model.info.name == "mnist-beta10" and model.image.shape == (28, 28)
    model.set_value("mu", 3, -1.25)
    copy = model.snapshot()
    assert np.array_equal(copy.image, model.image) and copy.vae is model.vae
    model.set_value("mu", 3, 2.0)
    assert copy.mu[3] == -1.25 and not np.array_equal(copy.image, model.image)


# -- two sessions of a real server -------------------------------------------------------------
def big_checkpoint(path, megabytes: float):
    """A valid checkpoint (the original app's layout) made big by optimizer state, which the
    loader reads and ignores, its zip entries deflated: a second or so to read."""
    torch.manual_seed(0)
    count = int(megabytes * 2**20 / 4 / 4)
    payload = {
        "config": {"latent_dim": 20, "beta": 1.0},
        "model_state_dict": VAE(VAEConfig(latent_dim=20)).state_dict(),
        "optimizer_state_dict": {"state": {i: {"exp_avg": torch.randn(count)} for i in range(4)}},
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with (
        zipfile.ZipFile(buffer) as stored,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as deflated,
    ):
        for item in stored.infolist():
            deflated.writestr(item.filename, stored.read(item.filename))
    return path


class Enter(EnterEvent):
    """Panel's Enter event of a text input as BokehJS sends it, with the text: Panel's own class,
    made for receiving it, sends only the model."""

    def event_values(self) -> dict:
        return {**super().event_values(), "value_input": self.value_input}


class Client(protocol_client.Client):
    """One session whose server patches are applied as they arrive (``listen``), so that a test
    can wait for what one session shows while another works."""

    def __init__(self):
        super().__init__()
        self.patched = asyncio.Event()

    async def open(self, page_url: str) -> Client:
        await super().open(page_url)
        self.listener = asyncio.create_task(self._listen())
        return self

    def css(self, css: str):
        found = super().css(css)
        assert found is not None, f"no {css} in the page"
        return found

    def enter(self, css: str, text: str) -> None:
        """Type ``text`` into a text input and press Enter, as a browser reports it."""
        model = self.css(css)
        model.value = text
        self.doc.callbacks.send_event(Enter(model, value_input=text))

    def image(self) -> list[float]:
        source = self.doc.get_model_by_name("latent-image-source")
        return np.asarray(source.data["image"][0]).ravel().tolist()

    async def until(self, condition) -> None:
        """Send what changed, then wait for the server's patches until ``condition()`` holds."""
        await self._flush()
        async with asyncio.timeout(TIMEOUT):
            while True:
                self.patched.clear()
                if condition():
                    return
                await self.patched.wait()

    def close(self) -> None:
        self.listener.cancel()
        super().close()

    async def _listen(self) -> None:
        while (fragment := await self.ws.read_message()) is not None:
            message = await self.receiver.consume(fragment)
            if message is not None and message.msgtype == "PATCH-DOC":
                message.apply_to_document(self.doc, self)
                self.patched.set()


@pytest.fixture(scope="module")
def server(start_server):
    return start_server()  # the bundled model (12 latent dimensions)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_load_under_way_holds_up_no_other_session(server, tmp_path):
    big = big_checkpoint(tmp_path / "big-model.pth", 80)
    run_async(two_sessions(server.url, big, tmp_path))


async def two_sessions(url: str, big, tmp_path) -> None:
    a, b = await Client().open(url), await Client().open(url)
    try:
        note, info, error = a.css("latent-loading"), a.css("latent-info"), a.css("latent-error")
        a.enter("latent-path", str(big))
        await a.until(lambda: note.visible)  # A: "Loading big-model.pth…", the read under way
        assert "big-model.pth" in note.text and "big-model" not in info.text

        # Both sessions' patches are applied as they arrive; what happens first is noted first.
        happened = []

        async def note_when(client, condition, what):
            await client.until(condition)
            happened.append(what)

        a_loaded = asyncio.create_task(note_when(a, lambda: not note.visible, "A loaded"))
        for value in (1.5, -1.5):
            before = b.image()
            b.css("latent-mu-0").value = value
            await note_when(b, lambda before=before: b.image() != before, "B answered")
        await a_loaded
        assert happened == ["B answered", "B answered", "A loaded"]  # B never waited for A
        assert "big-model" in info.text and "20" in info.text and not error.visible
        assert a.css("latent-mu-15")  # its sliders: 16 of its 20 dimensions on the first page

        a.enter("latent-path", str(tmp_path / "nowhere.pth"))
        await a.until(lambda: error.visible)  # a bad path: the one-line error, the model kept
        assert "nowhere.pth" in error.text and not note.visible and "big-model" in info.text
    finally:
        a.close()
        b.close()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.timeout(300)
def test_the_page_shows_a_load_under_way_then_its_result_or_error(browser, server, tmp_path):
    big = big_checkpoint(tmp_path / "big-model.pth", 80)
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        page.goto(server.url)
        page.wait_for_function(f"() => ({IMAGE})() !== null", timeout=30000)
        path = page.locator(".latent-path input").first
        path.fill(str(big))
        path.press("Enter")
        page.locator(".latent-loading").get_by_text("Loading big-model.pth").wait_for(timeout=10000)
        page.wait_for_function(f"() => ({BARS})().length === 20", timeout=30000)
        page.locator(".latent-loading").first.wait_for(state="hidden", timeout=10000)
        assert page.locator(".latent-mu-19").count() == 0  # a page of 16 sliders...
        assert page.locator(".latent-pager").first.is_visible()  # ...of two
        path.fill(str(tmp_path / "nowhere.pth"))
        path.press("Enter")
        page.locator(".latent-error").get_by_text("nowhere.pth").wait_for(timeout=10000)
        assert page.evaluate(f"() => ({BARS})().length") == 20  # the model it had
    finally:
        page.context.close()
