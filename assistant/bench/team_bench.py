"""The team cache's figures over a real loopback redis-server, each next to a bare redis-py GET measured in the same run."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.storage.team import TeamCache, TeamEntry, TeamSettings, seal, team_key

SECRET = "bench-team-secret"
CLIENTS = 8
_VOCABULARY = (  # common words of programming answers
    "the", "a", "to", "of", "and", "in", "is", "it", "that", "for", "you", "with", "on", "as", "this", "be",
    "are", "can", "or", "by", "not", "from", "your", "use", "when", "if", "will", "an", "which", "function",
    "returns", "value", "list", "file", "each", "key", "cache", "model", "answer", "request", "server", "team",
    "python", "install", "run", "error", "time", "first", "then", "one", "more", "new", "data", "other", "than",
    "only", "also", "how", "what", "where", "after", "before", "because", "example", "string", "number", "call",
    "method", "class", "test", "code", "line", "loop", "read", "write", "open", "close", "memory", "thread",
    "queue", "lock",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A redis-server of our own on loopback (or a unix socket) in a scratch folder: no persistence, never a service."""

    def __init__(self, workdir: Path, *, port: int = 0, unixsocket: str = "", password: str = "",
                 tls: tuple[Path, Path] | None = None, extra: tuple[str, ...] = ()) -> None:
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.unixsocket = unixsocket
        self.password = password
        self.tls = tls  # (certificate, key): TLS only, on self.port
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.unixsocket:
            return f"unix://{self.unixsocket}"
        return f"{'rediss' if self.tls else 'redis'}://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [binary, "--port", "0" if self.tls else str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", str(self.workdir / "redis.log")]
        if self.tls:
            args += ["--tls-port", str(self.port), "--tls-cert-file", str(self.tls[0]), "--tls-key-file",
                     str(self.tls[1]), "--tls-ca-cert-file", str(self.tls[0]), "--tls-auth-clients", "no"]
        if self.unixsocket:
            args += ["--unixsocket", self.unixsocket, "--unixsocketperm", "700"]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen([*args, *self.extra], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.workdir / "redis.log").read_text(errors="replace")[-500:] if (self.workdir / "redis.log").exists() else ""
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}: {log.strip()}")
            time.sleep(0.02)
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as raw:
                s = raw
                if self.tls:
                    s = ssl.create_default_context(cafile=str(self.tls[0])).wrap_socket(raw, server_hostname="127.0.0.1")
                s.sendall(b"PING\r\n")
                return s.recv(64)[:1] in (b"+", b"-")  # -NOAUTH still means it is up
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL, as a crash or a pulled cable would look to clients."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None


def sample_entry(text_bytes: int = 2000, *, created_at: float | None = None) -> TeamEntry:
    """An answer of `text_bytes` of words drawn with a fixed seed (zlib shrinks it about as much as real prose)."""
    rng = random.Random(text_bytes)
    words: list[str] = []
    while sum(map(len, words)) + len(words) < text_bytes:
        words.append(rng.choice(_VOCABULARY))
    text = " ".join(words)[:text_bytes]
    return TeamEntry("openai", "gpt-4o-mini", text, 812, 431, 0.000381, False, 412.5, 2210.0,
                     time.time() if created_at is None else created_at)


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timed(call: Callable[[], Any]) -> float:
    t = time.perf_counter_ns()
    call()
    return (time.perf_counter_ns() - t) / 1000


def _bare(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=1.0, driver_info=None)


def _latency(team: TeamCache, bare: Any, key: str, samples: int) -> dict[str, float]:
    rkey = team.redis_key(key)
    for _ in range(200):  # connections open, code paths warm
        team.get(key)
        bare.get(rkey)
    hits, floor = [], []
    for _ in range(samples):  # interleaved, so drift on a busy machine hits both alike
        hits.append(_timed(lambda: team.get(key)))
        floor.append(_timed(lambda: bare.get(rkey)))
    if team.get(key) is None:
        raise RuntimeError(f"the team cache missed its own entry: {team.status().last_error}")
    out = {}
    for q, name in ((0.5, "p50"), (0.99, "p99")):
        out[f"team_hit_{name}_us"] = round(_pct(hits, q), 1)
        out[f"team_bare_get_{name}_us"] = round(_pct(floor, q), 1)
        out[f"team_hit_{name}_ratio"] = round(_pct(hits, q) / _pct(floor, q), 2)
    return out


def _throughput(calls: list[Callable[[], Any]], per_client: int) -> float:
    start = threading.Barrier(len(calls) + 1)

    def client(call: Callable[[], Any]) -> None:
        start.wait()
        for _ in range(per_client):
            call()

    threads = [threading.Thread(target=client, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return len(calls) * per_client / (time.perf_counter() - t0)


def _concurrent(url: str, key: str, rkey: str, per_client: int) -> dict[str, float]:
    teams = [TeamCache(TeamSettings(cache_url=url), SECRET) for _ in range(CLIENTS)]
    bares = [_bare(url) for _ in range(CLIENTS)]
    try:
        for team, bare in zip(teams, bares):
            team.get(key)
            bare.get(rkey)
        ours = _throughput([lambda t=t: t.get(key) for t in teams], per_client)  # type: ignore[misc]
        floor = _throughput([lambda b=b: b.get(rkey) for b in bares], per_client)  # type: ignore[misc]
        if any(t.status().hits < per_client for t in teams):
            raise RuntimeError("a concurrent client missed")
    finally:
        for team in teams:
            team.close()
        for bare in bares:
            bare.close()
    return {"team_8_clients_ops_per_s": round(ours), "team_bare_8_clients_ops_per_s": round(floor),
            "team_8_clients_ratio": round(ours / floor, 2)}


def _down(server: RedisServer, bare_p50_us: float, samples: int) -> dict[str, float]:
    """Per-lookup cost once the server is gone and the breaker has opened (the first failure excluded)."""
    team = TeamCache(TeamSettings(cache_url=server.url, cooldown_s=3600), SECRET)
    try:
        server.kill()
        team.get("b3:first")  # the one failure that opens the breaker
        if team.status().state != "down":
            raise RuntimeError(f"the breaker did not open: {team.status().line()}")
        costs = [_timed(lambda: team.get("b3:later")) for _ in range(samples)]
        if team.status().skipped != samples:
            raise RuntimeError("lookups reached the dead server")
    finally:
        team.close()
    p99 = _pct(costs, 0.99)
    return {"team_down_get_p50_us": round(_pct(costs, 0.5), 2), "team_down_get_p99_us": round(p99, 2),
            "team_down_vs_bare_get_ratio": round(p99 / bare_p50_us, 4)}


def run(quick: bool) -> dict[str, float]:
    """Start a redis-server of our own, measure, stop it."""
    samples, per_client = (2_000, 500) if quick else (20_000, 5_000)
    scratch = Path(tempfile.mkdtemp(prefix="assistant-team-bench-"))
    server = RedisServer(scratch / "redis").start()
    try:
        url, key, entry = server.url, "b3:" + "ab" * 32, sample_entry()
        team = TeamCache(TeamSettings(cache_url=url, share=True), SECRET)
        bare = _bare(url)
        try:
            puts = []
            for i in range(200):
                puts.append(_timed(lambda i=i: team.put(f"b3:put{i}", entry)))  # type: ignore[misc]
                if i % 50 == 49:
                    team.flush(5.0)
            team.put(key, entry)
            if not team.flush(5.0):
                raise RuntimeError("queued writes did not reach the server")
            blob = seal(team_key(SECRET), team.namespace, key, entry)
            figures: dict[str, float] = {
                "team_payload_bytes": float(len(blob)), "team_answer_bytes": float(len(entry.text.encode())),
                "team_payload_json_object_bytes": float(len(json.dumps(dataclasses.asdict(entry)).encode())),
                "team_put_caller_p99_us": round(_pct(puts, 0.99), 1)}
            figures.update(_latency(team, bare, key, samples))
        finally:
            team.close()
            bare.close()
        figures.update(_concurrent(url, key, team.redis_key(key), per_client))
        figures.update(_down(server, figures["team_bare_get_p50_us"], samples))
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return figures


if __name__ == "__main__":
    print(json.dumps(run(quick=os.environ.get("QUICK", "") == "1"), indent=1))
