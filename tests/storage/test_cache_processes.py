"""Two processes writing and reading one cache file at the same time: no lock errors, each sees the other's answers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from assistant.storage.cache import ResponseCache
from assistant.storage.db import open_database
from tests.conftest import ROOT

WORKER = """
import sys, time
from pathlib import Path
from assistant.core.records import CachedAnswer
from assistant.storage.cache import ResponseCache
from assistant.storage.db import open_database

path, me, other, n = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
cache = ResponseCache(open_database(path).conn)
for i in range(n):
    cache.put(CachedAnswer(f"b3:{me}-{i}", "openai", "m", f"answer {me} {i}", 1, 1, 0.0, False, None, None, time.time()))
    assert cache.get(f"b3:{me}-{i}").text == f"answer {me} {i}"
    if i % 50 == 0:
        cache.prune()
deadline = time.time() + 30
missing = set(range(n))
while missing and time.time() < deadline:
    for i in sorted(missing):
        hit = cache.get(f"b3:{other}-{i}")
        if hit is not None:
            assert hit.text == f"answer {other} {i}", hit
            missing.discard(i)
    time.sleep(0.01)
cache.flush()
print("missing", len(missing))
"""


def test_two_processes_share_the_cache_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    open_database(path).conn.close()  # migrated once, as the app's first run would
    env_path = {"PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(path), me, other, "200"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env={**os.environ, **env_path})
             for me, other in (("a", "b"), ("b", "a"))]
    outs = [p.communicate(timeout=90) for p in procs]
    for proc, (out, err) in zip(procs, outs, strict=False):
        assert proc.returncode == 0, err
        assert out.strip() == "missing 0"
    cache = ResponseCache(open_database(path).conn)
    assert cache.size()[0] == 400
    hits = cache.conn.execute("SELECT sum(hits) FROM response_cache").fetchone()[0]
    assert hits >= 800  # every process's hits were written back
