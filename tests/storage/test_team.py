"""The team cache against a real redis-server of the test's own: sharing, outages, forged entries, auth, full server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.bench.team_bench import KEY, RedisServer, sample_entry
from assistant.core.config import TeamSettings, settings_from_mapping
from assistant.core.errors import ConfigError
from assistant.core.records import CachedAnswer
from assistant.storage.team import WRITE_QUEUE, TeamCache
from assistant.storage.team_config import server_label, settings_problem
from assistant.storage.team_entry import MAX_BLOB, seal, team_key, unseal
from tests.conftest import needs_redis

pytestmark = needs_redis

SECRET = "correct horse battery staple"


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Liveness only (a background trial has to happen); nothing is asserted about how long it took."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    srv = RedisServer(tmp_path / "redis").start()
    yield srv
    srv.stop()


@pytest.fixture
def make() -> Iterator[Callable[..., TeamCache]]:
    """TeamCache instances ("installs"), all closed afterwards."""
    made: list[TeamCache] = []

    def factory(url: str, secret: str = SECRET, password: str | None = None, **settings: Any) -> TeamCache:
        # Generous unless a test is about timeouts: the machine is shared, and no test asserts on time.
        settings.setdefault("read_timeout_ms", 2000)
        settings.setdefault("connect_timeout_ms", 2000)
        cache = TeamCache(TeamSettings(cache_url=url, **settings), secret, password=password)
        made.append(cache)
        return cache

    yield factory
    for cache in made:
        cache.close()


def bare(server: RedisServer) -> Any:
    import redis

    return redis.Redis.from_url(server.url, password=server.password or None, socket_timeout=5)


def test_a_second_install_is_answered_from_the_first_ones_answer(server: RedisServer, make: Callable[..., TeamCache]) -> None:
    alice, bob = make(server.url, share=True), make(server.url)
    entry = sample_entry(3000, created_at=time.time())
    assert alice.put(entry) is True
    assert alice.flush(5.0)
    assert bob.get(KEY) == entry
    assert bob.get("b3:" + "00" * 32) is None
    a, b = alice.status(), bob.status()
    assert (a.writes, a.dropped, a.state) == (1, 0, "connected")
    assert (b.hits, b.misses, b.errors, b.tampered, b.state) == (1, 1, 0, 0, "connected")
    # Stored under the namespace, compressed and sealed, with the TTL.
    stored = bare(server).get(f"assistant:{KEY}")
    assert stored[:2] == b"AT" and len(stored) < len(entry.text)
    assert 29 * 86400 < bare(server).ttl(f"assistant:{KEY}") <= 30 * 86400


def test_get_first_asks_for_every_candidate_at_once_and_keeps_their_order(server: RedisServer,
                                                                          make: Callable[..., TeamCache]) -> None:
    alice, bob = make(server.url, share=True), make(server.url)
    keys = [f"b3:{i:064x}" for i in range(4)]
    entries = [sample_entry(100 + i, created_at=time.time(), key=keys[i]) for i in range(4)]
    for entry in entries[2:]:
        alice.put(entry)
    assert alice.flush(5.0)
    bare(server).set(f"assistant:{keys[1]}", b"planted")
    assert bob.get_first(keys) == entries[2]
    assert bob.get_first(keys[::-1]) == entries[3]
    assert bob.get_first(keys[:2]) is None
    assert bob.get_first([]) is None
    status = bob.status()
    assert (status.hits, status.misses, status.tampered, status.errors) == (2, 1, 2, 0)


def test_sharing_is_opt_in(server: RedisServer, make: Callable[..., TeamCache]) -> None:
    reader = make(server.url)  # share defaults to off
    assert reader.put(sample_entry()) is False
    assert reader.flush(5.0)
    assert bare(server).dbsize() == 0
    assert reader.status().dropped == 0


def test_an_answer_older_than_the_ttl_is_not_used(server: RedisServer, make: Callable[..., TeamCache]) -> None:
    writer, reader = make(server.url, share=True, ttl_days=0), make(server.url, ttl_days=1)
    writer.put(sample_entry(created_at=time.time() - 2 * 86400))
    assert writer.flush(5.0)
    assert bare(server).ttl(f"assistant:{KEY}") == -1  # ttl_days=0 keeps it until evicted
    assert reader.get(KEY) is None and reader.status().misses == 1


def test_server_killed_mid_run_then_restarted(server: RedisServer, make: Callable[..., TeamCache]) -> None:
    alice, bob = make(server.url, share=True, cooldown_s=0.5), make(server.url, cooldown_s=0.5)
    first = sample_entry(created_at=time.time())
    alice.put(first)
    assert alice.flush(5.0) and bob.get(KEY) == first

    server.kill()
    assert bob.get("b3:after-the-crash") is None  # the one failure: refused at once
    down = bob.status()
    assert down.state == "down" and down.errors >= 1  # later ones are background trials
    assert down.short.startswith("down · retry ") and "cannot use redis://127.0.0.1" in down.last_error
    results = [bob.get(KEY) for _ in range(10)]
    assert results == [None] * 10
    assert bob.status().skipped == 10  # the breaker answered; the dead server was never asked
    alice.put(replace(first, key="b3:lost"))  # alice has not noticed yet: her write fails in the background
    assert alice.flush(5.0)
    assert alice.status().state == "down" and alice.status().dropped == 1
    assert alice.put(replace(first, key="b3:also-lost")) is False  # and now she drops at once

    server.start()  # same port, empty (no persistence)
    assert wait_for(lambda: alice.status().state == bob.status().state == "connected")
    second = sample_entry(500, created_at=time.time())
    assert alice.put(second) and alice.flush(5.0)
    assert bob.get(KEY) == second


def test_forged_truncated_or_moved_entries_are_never_served(server: RedisServer, make: Callable[..., TeamCache]) -> None:
    alice = make(server.url, share=True)
    mallory = make(server.url, secret="not the team secret", share=True)
    planted = sample_entry(created_at=time.time())
    mallory.put(planted)
    assert mallory.flush(5.0)
    assert alice.get(KEY) is None
    assert alice.status().tampered == 1 and "forged" in alice.status().last_error

    genuine = sample_entry(created_at=time.time())
    alice.put(genuine)
    assert alice.flush(5.0) and alice.get(KEY) == genuine
    r = bare(server)
    blob = r.get(f"assistant:{KEY}")
    flipped = blob[:-5] + bytes([blob[-5] ^ 1]) + blob[-4:]
    other_key = "b3:" + "ee" * 32
    bad = {
        KEY: [blob[:-7], flipped, b"hello", blob[:20]],
        other_key: [blob],  # a genuine entry moved under another key
    }
    rejected = 0
    for key, values in bad.items():
        for value in values:
            r.set(f"assistant:{key}", value)
            assert alice.get(key) is None
            rejected += 1
            assert alice.status().tampered == 1 + rejected
    assert "truncated" in alice.status().last_error or "forged" in alice.status().last_error
    r.delete(f"assistant:{KEY}")
    r.rpush(f"assistant:{KEY}", "not a string")
    assert alice.get(KEY) is None and alice.status().tampered == 2 + rejected

    # The namespace is signed too: the same bytes under another team's namespace are rejected.
    other_team = make(server.url, namespace="other-team")
    r.set(f"other-team:{KEY}", blob)
    assert other_team.get(KEY) is None and other_team.status().tampered == 1
    assert alice.status().hits == 1 and alice.status().errors == 0


def test_an_entry_of_a_newer_format_is_a_miss_not_an_alarm(server: RedisServer, make: Callable[..., TeamCache]) -> None:
    alice = make(server.url)
    blob = seal(team_key(SECRET), "assistant", sample_entry())
    bare(server).set(f"assistant:{KEY}", blob[:2] + bytes([2]) + blob[3:])
    assert alice.get(KEY) is None
    assert (alice.status().misses, alice.status().tampered) == (1, 0)


def test_a_server_that_never_answers_costs_one_timeout_then_nothing(make: Callable[..., TeamCache]) -> None:
    with socket.socket() as hung:  # accepts connections (the kernel's backlog) and never says a word
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        url = f"redis://127.0.0.1:{hung.getsockname()[1]}/0"
        cache = make(url, share=True, read_timeout_ms=50, connect_timeout_ms=50, cooldown_s=600)
        assert [cache.get(KEY) for _ in range(20)] == [None] * 20
        status = cache.status()
        assert (status.state, status.errors, status.skipped, status.hits, status.misses) == ("down", 1, 19, 0, 0)
        assert status.last_error == f"redis://127.0.0.1:{hung.getsockname()[1]}/0 did not answer within 50 ms"
        assert status.retry_in_s > 500
        assert cache.put(sample_entry()) is False and cache.status().dropped == 1


def test_a_server_that_never_accepts_costs_one_connect_timeout(make: Callable[..., TeamCache]) -> None:
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]  # fill the accept queue: Linux then drops further SYNs
        try:
            for filler in fillers:
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
            cache = make(f"redis://127.0.0.1:{port}/0", connect_timeout_ms=50, cooldown_s=600)
            assert [cache.get(KEY) for _ in range(5)] == [None] * 5
            status = cache.status()
            assert (status.state, status.errors, status.skipped) == ("down", 1, 4)
            assert status.last_error == f"redis://127.0.0.1:{port}/0 took more than 50 ms to connect"
        finally:
            for filler in fillers:
                filler.close()


def test_put_never_waits_for_a_stuck_server(make: Callable[..., TeamCache]) -> None:
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        cache = make(f"redis://127.0.0.1:{hung.getsockname()[1]}/0", share=True, read_timeout_ms=3000)
        entry = sample_entry()
        queued = [cache.put(replace(entry, key=f"b3:{i:064x}")) for i in range(WRITE_QUEUE + 100)]
        # The thread is stuck on the first write; the queue took what it holds and the rest was dropped, counted.
        status = cache.status()
        assert status.writes == 0 and queued.count(True) >= WRITE_QUEUE
        assert status.dropped == queued.count(False) >= 100 - 1


def test_unix_socket_url(tmp_path: Path, make: Callable[..., TeamCache]) -> None:
    path = tmp_path / "r.sock"
    srv = RedisServer(tmp_path / "redis-unix", unixsocket=str(path)).start()
    try:
        assert srv.url == f"unix://{path}"
        alice, bob = make(srv.url, share=True), make(srv.url)
        entry = sample_entry(created_at=time.time())
        alice.put(entry)
        assert alice.flush(5.0) and bob.get(KEY) == entry
        assert bob.status().where == f"unix://{path}"
    finally:
        srv.stop()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, made here (no network, nothing shipped)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "team cache test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_rediss_url_speaks_tls_and_checks_the_certificate(tmp_path: Path, make: Callable[..., TeamCache]) -> None:
    cert, key = self_signed(tmp_path / "tls")
    srv = RedisServer(tmp_path / "redis-tls", tls=(cert, key)).start()
    try:
        trusted = f"{srv.url}?ssl_ca_certs={cert}"
        alice, bob = make(trusted, share=True), make(trusted)
        entry = sample_entry(created_at=time.time())
        alice.put(entry)
        assert alice.flush(5.0) and bob.get(KEY) == entry
        assert bob.status().where == f"rediss://127.0.0.1:{srv.port}/0"
        stranger = make(srv.url, cooldown_s=600)  # the system's CAs do not know this certificate
        assert stranger.get(KEY) is None
        assert stranger.status().state == "down" and "certificate verify failed" in stranger.status().last_error
    finally:
        srv.stop()


def test_a_wrong_password_says_auth_failed_without_the_password(tmp_path: Path, make: Callable[..., TeamCache]) -> None:
    srv = RedisServer(tmp_path / "redis-auth", password="the-right-password").start()
    try:
        wrong = make(srv.url, password="hunter2-wrong", cooldown_s=600)
        assert wrong.get(KEY) is None
        status = wrong.status()
        assert status.state == "auth failed" and status.errors == 1
        assert status.short.startswith("auth failed · retry ")
        assert status.last_error.startswith(f"auth failed at {srv.url}: ")
        assert "assistant keys set team" in status.last_error
        assert "hunter2" not in status.last_error + status.short and "\n" not in status.last_error
        assert wrong.get(KEY) is None and wrong.status().skipped == 1

        missing = make(srv.url)
        assert missing.probe().state == "auth failed"
        right = make(srv.url, password="the-right-password", share=True)
        assert right.probe().state == "connected"
        right.put(sample_entry())
        assert right.flush(5.0) and right.get(KEY) is not None
    finally:
        srv.stop()


def test_the_least_privilege_acl_user_from_the_docs_is_enough(server: RedisServer,
                                                               make: Callable[..., TeamCache]) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "scaling.md").read_text()
    acl = next(line for line in docs.splitlines() if line.startswith("user ml-team ")).split("#")[0]
    bare(server).execute_command("ACL", "SETUSER", *acl.replace(">PASSWORD", ">ml-pass").split()[1:])
    url = f"redis://ml-team@127.0.0.1:{server.port}/0"
    alice = make(url, password="ml-pass", namespace="ml-team", share=True)
    bob = make(url, password="ml-pass", namespace="ml-team")
    entry = sample_entry(created_at=time.time())
    alice.put(entry)
    assert alice.flush(5.0) and bob.get(KEY) == entry and alice.status().errors == 0
    outsider = make(url, password="ml-pass", namespace="other-team", cooldown_s=600)
    assert outsider.get(KEY) is None
    status = outsider.status()
    assert status.state == "auth failed" and "check the team's ACL user and namespace" in status.last_error

    # A read-only user (no +set) still reads; its writes are refused, so it stops trying for a cool-down.
    bare(server).execute_command("ACL", "SETUSER", "reader", "on", ">r-pass", "~ml-team:*", "-@all", "+ping", "+getrange")
    reader = make(f"redis://reader@127.0.0.1:{server.port}/0", password="r-pass", namespace="ml-team", share=True,
                  cooldown_s=600)
    reader.put(replace(entry, key="b3:" + "44" * 32))
    assert reader.flush(5.0)
    assert (reader.status().state, reader.status().dropped) == ("connected", 1)
    assert "will not store answers" in reader.status().last_error
    assert reader.put(replace(entry, key="b3:" + "55" * 32)) is False
    assert reader.get(KEY) == entry


def test_a_full_server_pauses_sharing_and_keeps_serving(server: RedisServer, make: Callable[..., TeamCache]) -> None:
    cache = make(server.url, share=True, cooldown_s=600)
    entry = sample_entry(created_at=time.time())
    cache.put(entry)
    assert cache.flush(5.0)
    bare(server).config_set("maxmemory-policy", "noeviction")
    bare(server).config_set("maxmemory", "1")
    cache.put(replace(entry, key="b3:" + "22" * 32))
    assert cache.flush(5.0)
    status = cache.status()
    assert (status.state, status.errors, status.dropped, status.writes) == ("connected", 1, 1, 1)
    assert status.last_error == (f"{server.url} is full (maxmemory reached; use maxmemory-policy allkeys-lru); "
                                 "sharing paused 600 s")
    assert cache.put(replace(entry, key="b3:" + "33" * 32)) is False  # paused: not even queued
    assert cache.get(KEY) == entry


def test_warm_connects_in_the_background(server: RedisServer, make: Callable[..., TeamCache]) -> None:
    cache = make(server.url)
    assert cache.status().state == "connecting"
    cache.warm()
    assert wait_for(lambda: cache.status().state == "connected")


def test_without_a_secret_the_tier_is_off_and_says_why(server: RedisServer, make: Callable[..., TeamCache]) -> None:
    cache = make(server.url, secret="")
    assert cache.get(KEY) is None
    status = cache.status()
    assert status.state == "off" and "assistant keys set team" in status.last_error
    assert (status.skipped, status.misses, status.errors) == (0, 0, 0)


@pytest.mark.parametrize(("url", "says"), [
    ("http://host:6379", "must start with redis://"),
    ("redis://:s3cret@host:6379/0", "must not hold a password"),
    ("redis://host:6379/0?password=s3cret", "must not hold a password"),
    ("redis://host:6379/0?socket_timeout=30", "unknown option 'socket_timeout'"),
    ("redis://:s3cret@host:notaport/0", "is not a URL"),
    ("redis://host:6379/cache", "ends in a database number"),
    ("unix://", "needs a socket path"),
    ("redis:///0", "needs a host"),
])
def test_bad_settings_get_one_line(url: str, says: str) -> None:
    problem = settings_problem(TeamSettings(cache_url=url))
    assert problem is not None and says in problem and "\n" not in problem and "s3cret" not in problem
    with pytest.raises(ConfigError, match=says):
        TeamCache(TeamSettings(cache_url=url), SECRET)


def test_settings_off_and_documented() -> None:
    import dataclasses

    assert settings_problem(TeamSettings()) is None and TeamCache(TeamSettings(), SECRET).status().state == "off"
    assert settings_problem(TeamSettings(namespace="bad namespace", cache_url="redis://h")) is not None
    with pytest.raises(ConfigError, match="read_timeout_ms' is 0; it must be from 1 to 5000"):
        settings_from_mapping({"team": {"read_timeout_ms": 0}})
    with pytest.raises(ConfigError, match="looks like a secret; store keys with `assistant keys set team`"):
        settings_from_mapping({"team": {"password": "x"}})
    assert all(f.metadata.get("doc") for f in dataclasses.fields(TeamSettings))
    assert server_label(TeamSettings(cache_url="rediss://alice@cache.example:6380/2")) == "rediss://cache.example:6380/2"


def test_redis_is_imported_only_when_the_tier_is_used() -> None:
    code = ("import sys\nfrom assistant.storage.team import TeamCache\nfrom assistant.core.config import TeamSettings\n"
            "c = TeamCache(TeamSettings(cache_url='redis://127.0.0.1:9/0'), 's')\n"
            "before = 'redis' in sys.modules\nc.get('b3:x')\nprint(before, 'redis' in sys.modules, c.status().state)\n"
            "c.close()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout.split()
    assert out == ["False", "True", "down"]


def test_oversized_entries_are_not_shared(server: RedisServer, make: Callable[..., TeamCache]) -> None:
    import random

    cache = make(server.url, share=True)
    rng = random.Random(1)
    noise = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(MAX_BLOB // 2))  # does not compress
    assert cache.put(CachedAnswer(KEY, "p", "m", noise, 1, 1, 0.0, False, None, None, time.time())) is True
    assert cache.flush(10.0)
    assert (cache.status().dropped, cache.status().writes) == (1, 0) and bare(server).dbsize() == 0


def test_many_threads_share_one_cache(server: RedisServer, make: Callable[..., TeamCache]) -> None:
    import threading

    writer, reader = make(server.url, share=True), make(server.url)
    entry = sample_entry(created_at=time.time())
    keys = [f"b3:{i:064x}" for i in range(40)]
    for key in keys[::2]:
        writer.put(replace(entry, key=key))
    assert writer.flush(5.0)
    found: list[bool] = []

    def client() -> None:
        found.extend(reader.get(key) == replace(entry, key=key) for key in keys)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    status = reader.status()
    assert found.count(True) == status.hits == 8 * 20 and status.misses == 8 * 20 and status.errors == 0


text_st = st.text(max_size=3000) | st.sampled_from(["", "lone surrogate \ud800 from a broken stream", "\x1b[31m"])


@given(text=text_st, cost=st.floats(0, 10), ttft=st.none() | st.floats(0, 1e5), cut=st.integers(1, 40),
       flip=st.integers(0, 10_000), bit=st.integers(0, 7))
@settings(max_examples=150, deadline=None)
def test_seal_round_trips_and_any_change_is_rejected(text: str, cost: float, ttft: float | None, cut: int, flip: int,
                                                     bit: int) -> None:
    mac = team_key(SECRET)
    entry = CachedAnswer(KEY, "anthropic", "claude-haiku-4-5", text, 3, 4, cost, True, ttft, None, 1.7e9)
    blob = seal(mac, "team", entry)
    assert unseal(mac, "team", KEY, blob) == entry
    assert isinstance(unseal(mac, "team", KEY, blob[:-cut]), str)
    i = flip % len(blob)
    changed = blob[:i] + bytes([blob[i] ^ (1 << bit)]) + blob[i + 1:]
    assert isinstance(unseal(mac, "team", KEY, changed), str)
    assert isinstance(unseal(team_key("other"), "team", KEY, blob), str)
    assert isinstance(unseal(mac, "team2", KEY, blob), str)


def test_submit_reads_on_its_own_thread_and_a_stuck_read_is_not_queued_behind(server: RedisServer,
                                                                              make: Callable[..., TeamCache]) -> None:
    alice = make(server.url, share=True)
    entry = sample_entry(created_at=time.time())
    alice.put(entry)
    assert alice.flush(5.0)
    future = alice.submit([KEY])
    assert future is not None and future.result(5.0) == entry

    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        stuck = make(f"redis://127.0.0.1:{hung.getsockname()[1]}/0", read_timeout_ms=400, cooldown_s=600)
        first = stuck.submit([KEY])
        assert first is not None
        assert wait_for(lambda: (stuck._reading_since is not None and time.monotonic() - stuck._reading_since > 0.4)
                        or first.done())
        if not first.done():  # still stuck past the budget: nothing more is queued behind it
            assert stuck.submit([KEY]) is None and stuck.status().skipped == 1
        assert first.result(5.0) is None
        assert stuck.status().state == "down" and stuck.submit([KEY]) is None


def test_an_idle_connected_cache_notices_an_outage_without_a_request(server: RedisServer,
                                                                     make: Callable[..., TeamCache]) -> None:
    cache = make(server.url, cooldown_s=0.2)
    cache.warm()
    assert wait_for(lambda: cache.status().state == "connected")
    server.kill()
    assert wait_for(lambda: cache.status().state == "down")  # the idle check found it
    assert cache.status().hits + cache.status().misses == 0
    server.start()
    assert wait_for(lambda: cache.status().state == "connected")
