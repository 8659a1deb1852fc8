"""Page opens served in turn (explorer.app.turns): a process builds one session at a time, and
each is pulled before the next is built, so the first visitors of a burst have their page while
the rest are still being built."""

from __future__ import annotations

import asyncio

import pytest
from conftest import run_async
from protocol_client import Client

from explorer import names
from explorer.app.turns import PULL_GRACE_S, OpensInTurn

BURST = 5  # page opens at once: each build ≈ 0.3–0.7 s here


def test_sessions_wait_their_turn_even_after_a_failed_build():
    async def main():
        turns, loop = OpensInTurn(), asyncio.get_running_loop()
        built: dict[str, float] = {}

        async def open_one(name: str):
            await turns.on_session_created(None)
            built[name] = loop.time()  # Bokeh builds here, in the same step as the hook returns
            if name == "b":
                raise RuntimeError("a build that fails")

        results = await asyncio.gather(*(open_one(n) for n in "abc"), return_exceptions=True)
        return built, results

    built, results = run_async(main())
    assert list(built) == ["a", "b", "c"]  # in the order they came
    assert built["b"] - built["a"] >= PULL_GRACE_S * 0.9  # each after the last one's turn
    assert built["c"] - built["b"] >= PULL_GRACE_S * 0.9  # a failed build ends its turn too
    assert isinstance(results[1], RuntimeError)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_first_of_a_burst_is_pulled_before_the_last_is_built(start_server):
    # Sessions reused, as `vae-explorer serve` runs: each is built when its websocket connects.
    server = start_server(options=("--reuse-sessions",))

    async def main():
        warm = await Client().open(server.url)  # the process's first session sets the turns up
        warm.close()
        clients = [Client() for _ in range(BURST)]
        await asyncio.gather(*(client.open(server.url) for client in clients))
        for client in clients:
            client.close()
        return clients

    clients = sorted(run_async(main()), key=lambda client: client.acked)
    # Without turns, every build of the burst ran before the first pull: the first visitor's
    # document came after the last one's session was built.
    assert clients[0].pulled < clients[-1].acked
    assert all(client.doc.get_model_by_name(names.IMAGE_SOURCE) for client in clients)
