"""Several Ollama hosts behind one provider, as loopback fakes: the host with the model is chosen, one that stops
hands over to the next, a loaded model wins, and listings group models by host."""

from __future__ import annotations

import contextlib
import copy
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from assistant.core.errors import ModelNotFound, ProviderUnavailable
from assistant.core.types import ChatMessage, ChatRequest, GenerationSettings, ModelRef, ProviderRequest, Usage
from assistant.providers.ollama import OllamaProvider
from assistant.providers.ollama_hosts import Host, HostPool
from tests.conftest import FIXTURES
from tests.fakes.ollama import FakeOllama
from tests.fakes.server import Reply
from tests.helpers import ScriptedProvider, collect, finished, make_engine, real_provider, settings

RECORDED_PS = json.loads((FIXTURES / "ollama" / "ollama-bash-lib-demos" / "api_ps_local.json").read_text())


def host(models: list[str], loaded: tuple[str, ...] = (), pieces: list[str] | None = None) -> FakeOllama:
    """A fake Ollama that also answers /api/ps (the recorded shape, with these models loaded)."""
    fake = FakeOllama(models=models, pieces=pieces)
    entry = RECORDED_PS["models"][0]
    body = {"models": [{**copy.deepcopy(entry), "name": m, "model": m} for m in loaded]}
    fake.routes[("GET", "/api/ps")] = Reply.json(body)
    connections: list[socket.socket] = []
    serve = fake.httpd.process_request

    def track(conn: Any, address: Any) -> None:
        connections.append(conn)
        serve(conn, address)
    fake.httpd.process_request = track  # type: ignore[method-assign]
    fake.connections = connections  # type: ignore[attr-defined]
    return fake


def stop(fake: FakeOllama) -> None:
    """As a stopped Ollama looks to its clients: nothing listens, and open keep-alive connections are cut."""
    fake.__exit__(None, None, None)
    for conn in fake.connections:  # type: ignore[attr-defined]
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)


def provider(*urls: str) -> OllamaProvider:
    found: OllamaProvider = real_provider("ollama", hosts=list(urls))
    return found


def request(model: str = "llama3.2") -> ProviderRequest:
    return ProviderRequest(ModelRef("ollama", model), (ChatMessage("user", "Capital of France?"),), GenerationSettings())


async def answer(p: OllamaProvider, model: str = "llama3.2") -> str:
    return "".join([c async for c in p.stream(request(model)) if isinstance(c, str)])


def chats(fake: FakeOllama) -> int:
    return sum(1 for s in fake.seen if s.path == "/api/chat")


async def test_the_host_that_has_the_model_is_chosen() -> None:
    with host(["mistral:latest"], pieces=["from a"]) as a, host(["llama3.2:latest"], pieces=["from b"]) as b:
        p = provider(a.url, b.url)
        status = await p.availability()
        assert status.available and status.detail == "2 model(s) pulled on 2 of 2 hosts"
        assert await answer(p, "llama3.2") == "from b" and await answer(p, "mistral") == "from a"
        assert (chats(a), chats(b)) == (1, 1)
        with pytest.raises(ModelNotFound, match="No Ollama host has model 'qwen3'"):
            await answer(p, "qwen3")
        await p.aclose()


async def test_a_host_that_stops_hands_over_to_the_next() -> None:
    fakes = {name: host(["llama3.2:latest"], pieces=[name]).__enter__() for name in ("a", "b")}
    try:
        p = provider(*(f.url for f in fakes.values()))
        assert (await p.availability()).available
        first = await answer(p)  # the faster probe's host (both have the model, neither has it loaded)
        other = "b" if first == "a" else "a"
        stop(fakes.pop(first))  # it stops between two requests, unseen by any probe
        assert await answer(p) == other  # refused by the first, answered by the other: the caller sees no error
        assert await answer(p) == other and chats(fakes[other]) == 2  # the stopped one now rests
        status = await p.availability()
        assert status.available and "on 1 of 2 hosts" in status.detail
        await p.aclose()
    finally:
        for fake in fakes.values():
            fake.__exit__(None, None, None)


async def test_a_host_with_the_model_loaded_is_preferred() -> None:
    with host(["llama3.2:latest"], pieces=["cold"]) as a, \
            host(["llama3.2:latest"], loaded=("llama3.2:latest",), pieces=["warm"]) as b:
        p = provider(a.url, b.url)
        await p.availability()
        assert await answer(p) == "warm" and chats(a) == 0
        await p.aclose()


async def test_a_host_that_lost_the_model_hands_over_and_is_not_asked_again() -> None:
    with host(["llama3.2:latest"], loaded=("llama3.2:latest",), pieces=["from a"]) as a, \
            host(["llama3.2:latest"], pieces=["from b"]) as b:
        p = provider(a.url, b.url)
        await p.availability()  # a has it loaded: a is asked first
        a.models = []  # removed on a since the last probe: a answers 404
        assert await answer(p) == "from b"
        assert await answer(p) == "from b" and chats(a) == 1
        await p.aclose()


async def test_every_host_down_is_one_line_naming_them() -> None:
    p = provider("http://127.0.0.1:9", "127.0.0.1:7")
    status = await p.availability()
    assert not status.available
    assert status.detail == ("No Ollama host is answering (127.0.0.1:9: not running; 127.0.0.1:7: not running); "
                             "start `ollama serve` on one of them.")
    with pytest.raises(ProviderUnavailable, match=r"Every Ollama host failed \(127.0.0.1:9: Ollama is not running"):
        await answer(p)


async def test_one_host_behaves_as_before() -> None:
    p: OllamaProvider = real_provider("ollama", host="127.0.0.1:9")  # no hosts: host (or OLLAMA_HOST) alone
    assert [h.url for h in p.pool.hosts] == ["http://127.0.0.1:9"]
    status = await p.availability()
    assert status.detail == "Ollama is not running at http://127.0.0.1:9; start it with `ollama serve` (or set OLLAMA_HOST)."


def test_the_order_weighs_health_then_loaded_then_measured_latency() -> None:
    now = [100.0]
    pool = HostPool(["http://a:1", "http://b:2", "http://c:3", "http://a:1"], clock=lambda: now[0])
    a, b, c = pool.hosts  # the duplicate is dropped
    for h in pool.hosts:
        h.up, h.models = True, ["llama3.2:latest"]
    a.probe_ms, b.probe_ms, c.probe_ms = 5.0, 2.0, 9.0
    assert [h.label for h in pool.order("llama3.2")] == ["b:2", "a:1", "c:3"]  # lowest probe round trip
    pool.answered(c, 1.0)  # c answered fast: its first-token time now speaks for it
    assert pool.order("llama3.2")[0] is c
    a.loaded = frozenset({"llama3.2:latest"})
    assert pool.order("llama3.2")[0] is a  # loaded beats measured latency: no seconds spent loading
    pool.failed(a, "timed out")
    assert pool.order("llama3.2")[-1] is a  # resting: tried last
    now[0] += 31
    assert pool.order("llama3.2")[0] is a  # rested
    pool.failed(b, "404", missing_model="llama3.2:latest")
    assert b not in pool.order("llama3.2") and b.has("llama3.2") is False
    assert [h.label for h in pool.order("mistral")] == []


async def test_models_are_listed_per_host_with_its_state(tmp_path: Path) -> None:
    with host(["llama3.2:latest", "qwen3:latest"], loaded=("qwen3:latest",)) as a, host(["llama3.2:latest"]) as b:
        p = provider(a.url, b.url, "http://127.0.0.1:9")
        infos = await p.list_models()
        by_where: dict[str, list[Any]] = {}
        for info in infos:
            by_where.setdefault(info.where, []).append(info)
        wheres = list(by_where)
        assert wheres[0].startswith(f"127.0.0.1:{a.port} · up · 1 loaded · ") and wheres[0].endswith(" ms")
        assert wheres[1].startswith(f"127.0.0.1:{b.port} · up")
        assert wheres[2] == "127.0.0.1:9 · down"
        assert [(i.ref.model, i.detail) for i in by_where[wheres[0]]] == [("llama3.2:latest", "pulled"),
                                                                         ("qwen3:latest", "pulled, loaded")]
        assert not by_where[wheres[2]][0].available and "not running" in by_where[wheres[2]][0].detail
        await p.aclose()


async def test_the_engine_stays_with_ollama_while_one_host_answers(tmp_path: Path) -> None:
    with host(["llama3.2:latest"], pieces=["Paris."]) as b:
        cfg = settings(ollama={"hosts": ["http://127.0.0.1:9", b.url]})
        embedded = ScriptedProvider("embedded", [["from the embedded model", Usage(1, 1)]], model="smollm2")
        engine = make_engine(tmp_path, [embedded], cfg)
        engine.registry.register(engine.registry.spec("ollama"), real_provider("ollama", hosts=["http://127.0.0.1:9",
                                                                                                  b.url]))
        done = finished(await collect(engine, ChatRequest("Capital of France?"))).answer
        assert (done.provider, done.text) == ("ollama", "Paris.") and embedded.requests == []
        await engine.aclose()


def test_host_summary_words() -> None:
    h = Host("http://gpu-box:11434", 0)
    assert h.summary() == "gpu-box:11434 · not probed"
    h.up, h.loaded, h.probe_ms = True, frozenset({"a"}), 3.4
    assert h.summary() == "gpu-box:11434 · up · 1 loaded · 3 ms"
    h.up = False
    assert h.summary() == "gpu-box:11434 · down"
