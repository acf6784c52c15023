"""Reliability: other processes writing, ``kill -9``, exact incremental sync, hostile files.

Everything here runs real ``search-cli`` processes where the behaviour is about processes
(locks, crashes, memory), on small corpora generated into ``tmp_path``. The few tests that
take several seconds are named ``test_slow_*``.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import search_cli, start_server
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from search.documents import find_sources, read_source
from search.indexer import index_paths
from search.model import Source
from search.searcher import SearchIndex
from search.storage import BUILDING_FILE, LOCK_FILE, IndexLayout, open_index

REPO_ROOT = Path(__file__).resolve().parents[1]

#: An id -> (content hash, source path, translation pair) view of an index or a folder.
State = dict[str, tuple[str, str, str | None]]


# -- helpers ----------------------------------------------------------------------------------

def run_cli(*args: object, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*search_cli(), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO_ROOT)


def index_state(index_dir: Path) -> State:
    """What the index holds: every live document's id, hash, path and pair."""
    ix, _ = open_index(index_dir)
    with ix.searcher() as s:
        out: State = {}
        for fields in s.all_stored_fields():
            assert fields["id"] not in out, f"duplicate id {fields['id']!r} in the index"
            out[fields["id"]] = (fields["hash"], fields.get("path"), fields.get("pair"))
        return out


def folder_state(folder: Path) -> State:
    """What a fresh build of ``folder`` holds, read without Whoosh (fast)."""
    out: State = {}
    for item in find_sources([folder]):
        if isinstance(item, Source):
            for doc in read_source(item).documents:
                out.setdefault(doc.id, (doc.hash, doc.path, doc.pair_id))
    return out


def generations(index_dir: Path) -> set[str]:
    return {p.name for p in index_dir.glob("gen-*")}


def processes_mentioning(marker: str) -> list[int]:
    """Pids (other than ours) whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(int(entry.name))
    return found


VOCABULARY = ("police border report minister cooperation security citizens river bridge "
              "harbour village council budget festival library museum school forest mountain "
              "weather storm traffic tunnel railway station airport market").split()


def write_report(folder: Path, i: int, version: int, rng: random.Random,
                 words: int = 40) -> None:
    """An English report with the marker word "zorblat" and its version in the title."""
    body = " ".join(rng.choice(VOCABULARY) for _ in range(words))
    (folder / f"report-{i:04d}.txt").write_text(
        f"Report {i} version {version}\n\nThe zorblat survey number {i}. {body}.\n",
        encoding="utf-8")


def pseudo_words(rng: random.Random, n: int) -> list[str]:
    letters = "abcdefghijklmnoprstuvz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(n)]


def write_heavy(folder: Path, i: int, version: int, rng: random.Random,
                vocab: list[str]) -> None:
    """A document with many distinct words: slow enough to index that kills land inside."""
    body = " ".join(rng.choice(vocab) for _ in range(rng.randint(400, 700)))
    (folder / f"heavy-{i:04d}.txt").write_text(
        f"Heavy document {i} revision {version}\n\n{body}\n", encoding="utf-8")


def start_serve(index_dir: Path, *extra: str, timeout: float = 60) -> tuple[subprocess.Popen,
                                                                              str]:
    """A real ``search-cli serve`` on a free loopback port; (process, base URL)."""
    return start_server([*search_cli(), "serve", "--port", "0", "--index", str(index_dir),
                         *extra], REPO_ROOT, timeout)


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


# -- concurrency --------------------------------------------------------------------------

REPORTS = 40


def _version_of(title: str) -> int:
    return int(title.rsplit(" ", 1)[1])


def test_searches_stay_consistent_while_another_process_updates(tmp_path: Path,
                                                                served) -> None:
    """Each search sees the whole old index or the whole new one: never half an update,
    never a document twice or missing."""
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    rng = random.Random(7)
    for i in range(REPORTS):
        write_report(docs, i, 1, rng)
    index_paths([docs], index_dir)
    old_ids = {f"report-{i:04d}.txt" for i in range(REPORTS)}
    # The update: every report edited, five deleted, five added (same total).
    for i in range(5):
        (docs / f"report-{i:04d}.txt").unlink()
    for i in range(5, REPORTS + 5):
        write_report(docs, i, 2, rng)
    new_ids = {f"report-{i:04d}.txt" for i in range(5, REPORTS + 5)}

    seen = {1: 0, 2: 0}
    during = 0
    with SearchIndex(index_dir) as ix:
        proc = subprocess.Popen([*search_cli(), "index", str(docs), "--index", str(index_dir),
                                 "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        served.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            running = proc.poll() is None
            r = ix.search("zorblat", per_page=100, snippets=False)
            ids = [h.id for h in r.hits]
            versions = {_version_of(h.title) for h in r.hits}
            assert r.total == len(ids) == len(set(ids)) == REPORTS, (r.total, len(ids))
            assert len(versions) == 1, f"a search saw a half-applied update: {versions}"
            version = versions.pop()
            assert set(ids) == (old_ids if version == 1 else new_ids)
            seen[version] += 1
            during += running
            if not running and version == 2:
                break
        assert proc.wait(30) == 0, proc.stderr.read() if proc.stderr else ""
    assert seen[2], "the committed update never became visible"
    assert during >= 3, "the update finished before searches could overlap it"


def test_second_writer_waits_for_the_lock_then_says_so_clearly(tmp_path: Path,
                                                               served) -> None:
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    rng = random.Random(3)
    write_report(docs, 1, 1, rng)
    index_paths([docs], index_dir)
    write_report(docs, 2, 1, rng)
    # Another process holds the writer lock as an indexing run does (until its stdin closes).
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom search.storage import IndexLayout\n"
         "with IndexLayout(sys.argv[1]).writing(10):\n"
         "    print('locked', flush=True)\n    sys.stdin.read()\n", str(index_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    served.append(holder)
    assert holder.stdout.readline().strip() == "locked"

    started = time.monotonic()
    result = run_cli("index", docs, "--index", index_dir, "--timeout", "1")
    waited = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert "being updated by another process; waited 1 s" in result.stderr
    assert str(index_dir) in result.stderr
    assert "Traceback" not in result.stderr and "LockError" not in result.stderr
    assert waited >= 1.0

    # A writer with a longer timeout waits, and goes through once the lock is free.
    waiting = subprocess.Popen([*search_cli(), "index", str(docs), "--index", str(index_dir),
                                "--timeout", "60", "-q"], stderr=subprocess.PIPE, text=True)
    served.append(waiting)
    time.sleep(1.5)
    assert waiting.poll() is None, "the second writer did not wait for the lock"
    holder.stdin.close()
    assert holder.wait(10) == 0
    assert waiting.wait(60) == 0, waiting.stderr.read()
    assert set(index_state(index_dir)) == {"report-0001.txt", "report-0002.txt"}


def test_concurrent_rebuilds_and_updates_are_serialized(tmp_path: Path, served) -> None:
    """Before the folder lock, a rebuild could delete the generation another rebuild was
    still writing (and then point ``current`` at nothing)."""
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    rng = random.Random(5)
    for i in range(30):
        write_report(docs, i, 1, rng, words=200)
    index_paths([docs], index_dir)
    for i in range(30):
        write_report(docs, i, 2, rng, words=200)
    runs = [["--rebuild"], [], ["--rebuild"]]
    procs = [subprocess.Popen([*search_cli(), "index", str(docs), "--index", str(index_dir),
                               "--timeout", "120", "-q", *extra], stderr=subprocess.PIPE,
                              text=True) for extra in runs]
    served.extend(procs)
    for proc in procs:
        assert proc.wait(120) == 0, proc.stderr.read()
    assert index_state(index_dir) == folder_state(docs)
    assert len(generations(index_dir)) <= 2
    assert not list(index_dir.glob(f"gen-*/{BUILDING_FILE}"))


def test_server_picks_up_an_update_from_another_process(tmp_path: Path, served) -> None:
    """A real ``search-cli serve`` answers every request during an update by another
    process, and shows the update without a restart."""
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    rng = random.Random(11)
    for i in range(REPORTS):
        write_report(docs, i, 1, rng)
    index_paths([docs], index_dir)
    proc, base = start_serve(index_dir)
    served.append(proc)
    assert get_json(base + "api/search?q=wombatique")[1]["total"] == 0

    failures: list[object] = []
    stop_load = threading.Event()

    def load() -> None:
        while not stop_load.is_set():
            status, body = get_json(base + "api/search?q=zorblat&per_page=100&snippets=false")
            if status != 200 or body["total"] not in (REPORTS, REPORTS + 1):
                failures.append((status, body.get("total")))
            time.sleep(0.01)  # steady traffic, leaving the indexer some CPU

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        (docs / "new.txt").write_text("Wombatique sighting\n\nA zorblat wombatique was seen.\n",
                                      encoding="utf-8")
        result = run_cli("index", docs, "--index", index_dir, "-q")
        assert result.returncode == 0, result.stderr
        # The server looks for commits every 0.5 s (test_web pins that without a clock);
        # here it must see this one at all. 60 s only guards against hanging on a loaded
        # machine: it is not a speed limit.
        committed = time.monotonic()
        while get_json(base + "api/search?q=wombatique")[1]["total"] != 1:
            assert time.monotonic() - committed < 60, "the server never saw the update"
            time.sleep(0.1)
        # Two rebuilds back to back (from this process, another one for the server): the
        # second deletes the generation the server may still have open.
        for _ in range(2):
            index_paths([docs], index_dir, rebuild=True)
        time.sleep(0.6)
        assert get_json(base + "api/search?q=wombatique")[1]["total"] == 1
    finally:
        stop_load.set()
        for t in threads:
            t.join(30)
    assert failures == []


# -- crash safety ---------------------------------------------------------------------------

def _index_files(index_dir: Path) -> set[str]:
    """Names (generation/file) of every file in the index's generations."""
    out = set()
    for gen in index_dir.glob("gen-*"):
        try:
            out.update(f"{gen.name}/{entry.name}" for entry in os.scandir(gen))
        except OSError:
            continue
    return out


def _wait_gone(marker: str, timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := processes_mentioning(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def test_slow_kill_9_while_indexing_never_loses_the_index(tmp_path: Path, served) -> None:
    """SIGKILL a real indexing process (updates, rebuilds, a parallel rebuild) at random
    moments and the instant its commit writes a segment or a table of contents: the index
    always opens and holds the last complete state or the new one; a re-run converges to
    exactly the current documents, leaving no orphans, workers or locks behind."""
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    rng = random.Random(2024)
    vocab = pseudo_words(rng, 3000)
    count = 30
    for i in range(count):
        write_heavy(docs, i, 0, rng, vocab)
    started = time.monotonic()
    first = run_cli("index", docs, "--index", index_dir, "-q")
    full = time.monotonic() - started  # a whole run, process start included
    assert first.returncode == 0, first.stderr
    previous = index_state(index_dir)
    assert previous == folder_state(docs)

    # (extra arguments, when to kill): after a random share of a full run (reading,
    # analysing), or the moment the commit writes its segment or its table of contents.
    plans: list[tuple[list[str], float | str]] = [
        ([], 0.4), (["--rebuild"], "segment"), ([], "toc"),
        (["--rebuild", "--procs", "2"], 0.7)]
    next_id = count
    outcomes = []
    for version, (extra, when) in enumerate(plans, 1):
        for i in rng.sample(sorted(range(next_id)), count // 3):
            if (docs / f"heavy-{i:04d}.txt").exists():
                write_heavy(docs, i, version, rng, vocab)
        for path in rng.sample(sorted(docs.glob("*.txt")), 3):
            path.unlink()
        for _ in range(3):
            write_heavy(docs, next_id, version, rng, vocab)
            next_id += 1
        wanted = folder_state(docs)
        before = _index_files(index_dir)
        proc = subprocess.Popen([*search_cli(), "index", str(docs), "--index", str(index_dir),
                                 "-q", *extra], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        served.append(proc)
        if isinstance(when, float):
            time.sleep(rng.uniform(0.8, 1.2) * when * full)
        else:
            suffix = ".seg" if when == "segment" else ".toc"
            deadline = time.monotonic() + 10 * full
            while proc.poll() is None and time.monotonic() < deadline and not any(
                    name.endswith(suffix) for name in _index_files(index_dir) - before):
                time.sleep(0.0005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # Whoosh's worker processes (--procs 2) must die with their parent.
        assert _wait_gone(str(index_dir)) == [], "indexing workers outlived the killed run"
        state = index_state(index_dir)  # opens: never a broken or half-written index
        assert state in (previous, wanted), "the index holds neither the old nor the new set"
        with SearchIndex(index_dir) as ix:
            assert ix.search("heavy", per_page=100).total == len(state)
        outcomes.append(f"{' '.join(extra) or 'update'} at {when}: "
                        + ("new" if state == wanted else "old"))
        previous = state

    print(f"kill -9 outcomes (full run {full:.1f} s): {outcomes}")
    result = run_cli("index", docs, "--index", index_dir, "--timeout", "5")
    assert result.returncode == 0, result.stderr  # no lock left behind by the killed runs
    assert index_state(index_dir) == folder_state(docs)
    current = IndexLayout(index_dir).current()
    assert current is not None
    assert not list(index_dir.glob(f"gen-*/{BUILDING_FILE}")), "orphans were not cleaned up"
    assert len(generations(index_dir)) <= 2
    assert not list(index_dir.glob(".current-*"))


def test_orphaned_generations_are_removed_by_the_next_run(tmp_path: Path) -> None:
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    write_report(docs, 1, 1, random.Random(1))
    index_paths([docs], index_dir)
    index_paths([docs], index_dir, rebuild=True)
    layout = IndexLayout(index_dir)
    current = layout.current()
    previous = {g for g in index_dir.glob("gen-*") if g.resolve() != current}
    assert len(previous) == 1  # kept for readers still using it
    # What kills leave behind: a marked generation, one killed before engine.json, and the
    # temporary link of a swap killed before its rename.
    killed = layout.new_generation()
    (killed / "MAIN_x.seg").write_bytes(b"partial")
    (index_dir / "gen-00000000T000000-dead00").mkdir()
    os.symlink(current.name, index_dir / ".current-deadbeef")
    assert set(layout.orphans()) == {killed, index_dir / "gen-00000000T000000-dead00"}

    write_report(docs, 2, 1, random.Random(2))
    report = index_paths([docs], index_dir)  # an ordinary incremental run
    assert report.added == 1
    assert layout.current() == current
    assert {g.resolve() for g in index_dir.glob("gen-*")} == {current} | {
        g.resolve() for g in previous}
    assert not list(index_dir.glob(".current-*"))
    assert (index_dir / LOCK_FILE).exists()


def test_a_failed_rebuild_leaves_the_current_index_alone(tmp_path: Path, monkeypatch) -> None:
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    write_report(docs, 1, 1, random.Random(1))
    index_paths([docs], index_dir)
    before = index_state(index_dir)
    current = IndexLayout(index_dir).current()
    import search.indexer

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(search.indexer, "write_json", broken)
    write_report(docs, 2, 1, random.Random(2))
    with pytest.raises(OSError, match="No space"):
        index_paths([docs], index_dir, rebuild=True)
    assert IndexLayout(index_dir).current() == current
    assert index_state(index_dir) == before
    assert generations(index_dir) == {current.name}


def test_stale_manifest_after_a_crash_leaves_no_ghosts(tmp_path: Path) -> None:
    """A run killed between its commit and writing sources.json: the next runs must still
    notice the documents that commit added, when their files go away."""
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    rng = random.Random(9)
    write_report(docs, 1, 1, rng)
    index_paths([docs], index_dir)
    gen = IndexLayout(index_dir).current()
    stale = (gen / "sources.json").read_bytes()
    write_report(docs, 2, 1, rng)
    (docs / "more.jsonl").write_text(json.dumps({"id": "j1", "text": "zorblat one"}) + "\n"
                                     + json.dumps({"id": "j2", "text": "zorblat two"}) + "\n")
    index_paths([docs], index_dir)
    (gen / "sources.json").write_bytes(stale)  # as if killed before writing it
    (docs / "report-0002.txt").unlink()
    (docs / "more.jsonl").write_text(json.dumps({"id": "j1", "text": "zorblat one"}) + "\n")
    index_paths([docs], index_dir)
    assert index_state(index_dir) == folder_state(docs)
    assert set(index_state(index_dir)) == {"report-0001.txt", "j1"}


# -- incremental sync is exact ----------------------------------------------------------------

SYNC_WORDS = ("policija meja minister sodelovanje varnost most reka border police report "
              "bridge river council village").split()
words = st.lists(st.sampled_from(SYNC_WORDS), min_size=1, max_size=8).map(" ".join)


class FolderSync(RuleBasedStateMachine):
    """Random adds, edits (also same-size ones, with no pause), renames and deletes of .txt
    files and of JSONL files and their lines; after each indexing run the index must equal a
    fresh build of the folder: same ids, hashes, paths and pairs; no ghosts, no duplicates."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="sync-"))
        self.docs = self.tmp / "docs"
        (self.docs / "sub").mkdir(parents=True)
        self.index = self.tmp / "index"
        self.txt: set[str] = set()
        self.jsonl: dict[str, list[dict]] = {}
        self.serial = 0
        self.runs = 0

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _name(self, suffix: str) -> str:
        self.serial += 1
        return f"{'sub/' if self.serial % 3 == 0 else ''}f{self.serial}{suffix}"

    def _write_jsonl(self, name: str) -> None:
        lines = [json.dumps(r, ensure_ascii=False) for r in self.jsonl[name]]
        (self.docs / name).write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _record(self, text: str, with_id: bool, pair: bool) -> dict:
        self.serial += 1
        record: dict = {"title": f"Zapis {self.serial}", "text": text}
        if with_id:
            record["id"] = f"r{self.serial}"
        if pair:
            record["pair_id"] = f"p{self.serial % 4}"
        return record

    @initialize()
    def first_index(self) -> None:
        self.index_run(rebuild=False)

    @rule(text=words)
    def add_txt(self, text: str) -> None:
        name = self._name(".txt")
        (self.docs / name).write_text(f"Title {name}\n\n{text}\n", encoding="utf-8")
        self.txt.add(name)

    @precondition(lambda self: self.txt)
    @rule(k=st.integers(0, 99), text=words)
    def edit_txt(self, k: int, text: str) -> None:
        name = sorted(self.txt)[k % len(self.txt)]
        (self.docs / name).write_text(f"Title {name}\n\n{text}\n", encoding="utf-8")

    @precondition(lambda self: self.txt)
    @rule(k=st.integers(0, 99))
    def edit_txt_same_size(self, k: int) -> None:
        """Same size, at once: only the content tells (the file's mtime may not move)."""
        path = self.docs / sorted(self.txt)[k % len(self.txt)]
        data = path.read_bytes()
        flipped = data.replace(b"e", b"a", 1) if b"e" in data else data.replace(b"a", b"e", 1)
        path.write_bytes(flipped)

    @precondition(lambda self: self.txt)
    @rule(k=st.integers(0, 99))
    def rename_txt(self, k: int) -> None:
        old = sorted(self.txt)[k % len(self.txt)]
        new = self._name(".txt")
        (self.docs / old).rename(self.docs / new)
        self.txt.remove(old)
        self.txt.add(new)

    @precondition(lambda self: self.txt)
    @rule(k=st.integers(0, 99))
    def delete_txt(self, k: int) -> None:
        name = sorted(self.txt)[k % len(self.txt)]
        (self.docs / name).unlink()
        self.txt.remove(name)

    @rule(texts=st.lists(words, min_size=1, max_size=4), with_id=st.booleans(),
          pair=st.booleans())
    def add_jsonl(self, texts: list[str], with_id: bool, pair: bool) -> None:
        name = self._name(".jsonl")
        self.jsonl[name] = [self._record(t, with_id, pair) for t in texts]
        self._write_jsonl(name)

    @precondition(lambda self: self.jsonl)
    @rule(k=st.integers(0, 99), line=st.integers(0, 9), text=words, pair=st.booleans())
    def edit_jsonl_line(self, k: int, line: int, text: str, pair: bool) -> None:
        name = sorted(self.jsonl)[k % len(self.jsonl)]
        record = self.jsonl[name][line % len(self.jsonl[name])]
        if pair:  # only the translation link changes: the content hash does not
            record["pair_id"] = "p-other" if record.get("pair_id") != "p-other" else "p0"
        else:
            record["text"] = text
        self._write_jsonl(name)

    @precondition(lambda self: self.jsonl)
    @rule(k=st.integers(0, 99), text=words, with_id=st.booleans())
    def add_jsonl_line(self, k: int, text: str, with_id: bool) -> None:
        name = sorted(self.jsonl)[k % len(self.jsonl)]
        self.jsonl[name].insert(0, self._record(text, with_id, False))  # shifts line numbers
        self._write_jsonl(name)

    @precondition(lambda self: any(len(r) > 1 for r in self.jsonl.values()))
    @rule(k=st.integers(0, 99), line=st.integers(0, 9))
    def delete_jsonl_line(self, k: int, line: int) -> None:
        names = sorted(n for n, r in self.jsonl.items() if len(r) > 1)
        name = names[k % len(names)]
        del self.jsonl[name][line % len(self.jsonl[name])]
        self._write_jsonl(name)

    @precondition(lambda self: len(self.jsonl) >= 2)
    @rule(k=st.integers(0, 99), j=st.integers(0, 99))
    def move_jsonl_line(self, k: int, j: int) -> None:
        """A record (with its id) moves to another file, in one step."""
        names = sorted(self.jsonl)
        src = names[k % len(names)]
        dst = names[(k + 1 + j % (len(names) - 1)) % len(names)]
        if len(self.jsonl[src]) < 2:
            return
        self.jsonl[dst].append(self.jsonl[src].pop())
        self._write_jsonl(src)
        self._write_jsonl(dst)

    @precondition(lambda self: self.jsonl)
    @rule(k=st.integers(0, 99))
    def rename_jsonl(self, k: int) -> None:
        old = sorted(self.jsonl)[k % len(self.jsonl)]
        new = self._name(".jsonl")
        (self.docs / old).rename(self.docs / new)
        self.jsonl[new] = self.jsonl.pop(old)

    @precondition(lambda self: self.jsonl)
    @rule(k=st.integers(0, 99))
    def delete_jsonl(self, k: int) -> None:
        name = sorted(self.jsonl)[k % len(self.jsonl)]
        (self.docs / name).unlink()
        del self.jsonl[name]

    @rule(rebuild=st.sampled_from([False, False, False, True]))
    def index_run(self, rebuild: bool) -> None:
        report = index_paths([self.docs], self.index, rebuild=rebuild)
        assert report.problems == []
        self.runs += 1
        fresh = self.tmp / f"fresh-{self.runs}"
        index_paths([self.docs], fresh)
        assert index_state(self.index) == index_state(fresh)
        shutil.rmtree(fresh)


FolderSync.TestCase.settings = settings(
    max_examples=20, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_incremental_sync_equals_a_fresh_build = FolderSync.TestCase


def test_same_size_edit_within_one_clock_tick_is_seen(tmp_path: Path) -> None:
    """Where file times tick coarsely (FAT: 2 s; some kernels: milliseconds), an edit right
    after indexing can keep both size and mtime. Files that new are re-read next time."""
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    path = docs / "note.txt"
    path.write_text("Note\n\nThe heron waits.\n")
    index_paths([docs], index_dir)
    stamp = path.stat().st_mtime_ns
    path.write_text("Note\n\nThe egret waits.\n")  # same size
    os.utime(path, ns=(stamp, stamp))  # ...and, on a coarse clock, the same mtime
    index_paths([docs], index_dir)
    assert index_state(index_dir) == folder_state(docs)


# -- hostile files ----------------------------------------------------------------------------

def _bad_corpus(folder: Path) -> dict[str, str]:
    """Write every kind of odd input; returns {file name: expected reason fragment}."""
    folder.mkdir()
    (folder / "good.txt").write_text("Pelican count\n\nThe pelican colony grew this year.\n")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    (folder / "image.html").write_bytes(b"GIF89a\x00\x00" + os.urandom(2000))
    (folder / "noise.txt").write_bytes(bytes(range(0x80, 0x100)) * 30)
    (folder / "cp1250.txt").write_bytes(
        "Čebelarji na Koroškem\n\nČebelarji so se zbrali ob reki Dravi; šola je "
        "pripravila razstavo o čebelah in žuželkah.\n".encode("cp1250"))
    (folder / "mixed.txt").write_bytes(
        "Mešano kodiranje\n\nVečina besedila je v UTF-8: žirafa, čaplja, šakal. ".encode()
        + "Tu pa je nekaj v cp1250: žaba.".encode("cp1250") + " Konec: ščinkavec.\n".encode())
    (folder / "utf16.txt").write_text("Kingfisher notes\n\nA kingfisher by the river.\n",
                                      encoding="utf-16")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_text(" \n\t\n   \n")
    deep = "<div>" * 20000 + "The flamingo lives at the bottom." + "</div>" * 20000
    (folder / "nested.html").write_text(f"<html><body>{deep}</body></html>")
    (folder / "malformed.html").write_text(
        "<html><body><p>Unclosed <b>bold <i>heron</p></div></span><<<>>> &bogus; &#99999999;"
        "<table><tr><td>marsh<td>egret</table></b></html></html>")
    scripts = "".join(f"<script>var scriptonly{i} = 'cormorant';</script>"
                      f"<style>.styleonly{i} {{ color: red }}</style>" for i in range(300))
    (folder / "scripts.html").write_text(
        f"<html><head>{scripts}</head><body>{scripts}<p>The puffin nests on cliffs.</p>"
        f"{scripts}</body></html>")
    (folder / "only-scripts.html").write_text(f"<html><body>{scripts}</body></html>")
    lines = [
        json.dumps({"id": "j-good", "title": "Osprey", "text": "The osprey dives for fish."}),
        '{"id": "j-broken", "text": "unterminated',
        "[1, 2, 3]",
        json.dumps({"id": "j-notext", "title": ""}),
        json.dumps({"id": "j-number", "text": 42}),
        json.dumps({"id": "j-title-only", "title": "Albatross sighting"}),
        "",
        json.dumps({"id": "j-good", "text": "A duplicate id."}),
        json.dumps({"text": "Without an id: the stork."}),
    ]
    data = ("\n".join(lines) + "\n").encode() + b"\xff\xfe garbage line\n" + b"{\"id\": 1\n"
    (folder / "records.jsonl").write_bytes(data)
    (folder / "binary.jsonl").write_bytes(b"\x00\x01\x02" * 100)
    os.symlink(folder / "missing-target.txt", folder / "dangling.txt")
    os.symlink("loop-b.txt", folder / "loop-a.txt")
    os.symlink("loop-a.txt", folder / "loop-b.txt")
    os.mkfifo(folder / "pipe.txt")  # never opened: reading it would wait for a writer
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4 not indexed at all")
    return {
        "binary.txt": "binary", "image.html": "binary", "noise.txt": "not valid UTF-8",
        "empty.txt": "empty", "blank.txt": "empty",
        "only-scripts.html": "no text", "binary.jsonl": "binary",
        "dangling.txt": "broken symbolic link",
        "loop-a.txt": "symbolic link loop", "loop-b.txt": "symbolic link loop",
        "pipe.txt": "named pipe (FIFO)",
        "records.jsonl:2": "invalid JSON", "records.jsonl:3": "not a JSON object",
        "records.jsonl:4": "missing 'text'", "records.jsonl:5": "not a string",
        "records.jsonl:8": "duplicate id", "records.jsonl:10": "not valid UTF-8",
        "records.jsonl:11": "invalid JSON",
    }


def test_hostile_files_are_indexed_or_reported_by_name(tmp_path: Path) -> None:
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    expected_problems = _bad_corpus(docs)
    result = run_cli("index", docs, "--index", index_dir)
    assert result.returncode == 3, result.stderr  # "something was skipped"
    assert "Traceback" not in result.stderr
    reported: dict[str, list[str]] = {}
    for line in result.stderr.splitlines():
        m = re.match(r"(skipped|warning): (.+?): (.*)$", line)
        if m:
            reported.setdefault(Path(m.group(2)).name, []).append(f"{m.group(1)}: {m.group(3)}")
    for name, reason in expected_problems.items():
        assert any(r.startswith("skipped: ") and reason in r for r in reported.get(name, [])), (
            name, reported.get(name))
    # Damaged bytes replaced: indexed all the same, so a warning, not a skip.
    [mixed] = reported["mixed.txt"]
    assert mixed.startswith("warning: not valid UTF-8 at byte") and "bad byte" in mixed
    # Nothing else is lost: every readable document is in, each once.
    assert set(index_state(index_dir)) == {
        "good.txt", "cp1250.txt", "mixed.txt", "utf16.txt", "nested.html", "malformed.html",
        "scripts.html", "j-good", "j-title-only", "records.jsonl#9"}
    with SearchIndex(index_dir) as ix:
        def found(q: str) -> set[str]:
            return {h.id for h in ix.search(q, per_page=50).hits}

        assert found("čebelarji") == {"cp1250.txt"}
        assert found("cebelarji") == {"cp1250.txt"}
        assert found("ščinkavec") == {"mixed.txt"}
        assert found("kingfisher") == {"utf16.txt"}
        assert found("flamingo") == {"nested.html"}
        assert found("heron") == found("egret") == {"malformed.html"}
        assert found("puffin") == {"scripts.html"}
        assert found("cormorant") == found("scriptonly7") == found("styleonly7") == set()
        assert found("albatross") == {"j-title-only"}
        assert found("stork") == {"records.jsonl#9"}


@pytest.mark.parametrize(("update", "procs"), [(False, 1), (False, 2), (True, 1)],
                         ids=["build", "parallel-build", "update"])
def test_a_document_that_breaks_the_analysis_is_named_and_the_rest_indexed(
        tmp_path: Path, monkeypatch, update: bool, procs: int) -> None:
    """An analyser raising on one document (say, a lemmatizer bug on an odd word) costs that
    file only: it is reported by name, everything else is indexed, and none of its words
    leak into another document. Whoosh's worker processes die quietly on such an error and
    their documents vanish; the indexer notices, and never swaps in what is left."""
    from search.analysis.filters import CachedMorphFilter

    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    rng = random.Random(4)
    for i in range(12):
        write_report(docs, i, 1, rng)
    if update:
        index_paths([docs], index_dir)
        write_report(docs, 5, 2, rng)
    (docs / "report-0005.txt").write_text("Report 5 version 3\n\nThe zorblat survey and the "
                                          "pelicanword before the kaboomword and after.\n")
    original = CachedMorphFilter.base_form

    def base_form(self, word: str) -> str:
        if word == "kaboomword":
            raise UnicodeDecodeError("utf-8", b"\xc5", 0, 1, "unexpected end of data")
        return original(self, word)

    monkeypatch.setattr(CachedMorphFilter, "base_form", base_form)
    report = index_paths([docs], index_dir, procs=procs)
    assert [(Path(p.source).name, "could not be indexed" in p.reason)
            for p in report.problems] == [("report-0005.txt", True)]
    state = index_state(index_dir)
    others = {f"report-{i:04d}.txt" for i in range(12)} - {"report-0005.txt"}
    assert others <= set(state)
    if update:  # what was indexed from it before stays, as for any unreadable file
        assert "report-0005.txt" in state
    else:
        assert set(state) == others
    with SearchIndex(index_dir) as ix:
        assert ix.search("pelicanword").total == 0
        assert ix.search("zorblat", per_page=100).total == len(state)


def test_a_word_of_256_bytes_never_stops_indexing(tmp_path: Path) -> None:
    """lemmagen3 cuts words of 256+ UTF-8 bytes and may split a character (a decode error):
    the real CLI indexes everything else, and the file either works or is named."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "long.txt").write_text("Dolga beseda\n\nPolicija je danes okrepila sodelovanje. "
                                   + "čžš" * 43 + "a in še nekaj besedila v slovenščini.\n")
    (docs / "ok.txt").write_text("Druga\n\nPolicija je danes na meji.\n")
    result = run_cli("index", docs, "--index", tmp_path / "index")
    assert result.returncode in (0, 3), result.stderr
    assert "Traceback" not in result.stderr
    state = index_state(tmp_path / "index")
    assert "ok.txt" in state
    assert "long.txt" in state or "long.txt: could not be indexed" in result.stderr


def test_slow_50mb_text_file_is_read_up_to_the_cap_in_bounded_memory(tmp_path: Path) -> None:
    """Only the first MAX_TEXT_BYTES of a huge file are read; peak RSS of the indexing
    process stays far below what holding (and cleaning) all 50 MB would take."""
    docs = tmp_path / "docs"
    docs.mkdir()
    rng = random.Random(50)
    sentences = ["Policija je danes na meji s sosednjo državo okrepila sodelovanje.",
                 "Minister je poudaril, da je varnost državljanov na prvem mestu."]
    with open(docs / "huge.txt", "w", encoding="utf-8") as f:
        written, n = 0, 0
        while written < 50_000_000:
            line = " ".join(rng.choice(sentences) for _ in range(8)) + f" Zapis {n}.\n"
            f.write(line)
            written += len(line.encode())
            n += 1
        f.write("Pinguinius appears only at the very end.\n")
    (docs / "small.txt").write_text("Small one\n\nA tiny file beside the huge one.\n")
    # The peak is measured inside the indexing process: Linux keeps a process's ru_maxrss
    # across exec, so seen from here it would include the test runner's own memory at the
    # fork (hundreds of MB late in a full run). VmHWM is the high-water mark of the
    # process's own memory since exec; its children's (the parallel build's workers, forked
    # after it) come from RUSAGE_CHILDREN.
    peak_file = tmp_path / "peak"
    measure = (
        "import resource\n"
        "from search.cli import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    own = next(int(line.split()[1]) for line in open('/proc/self/status')\n"
        "               if line.startswith('VmHWM:'))\n"
        "    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        f"    open({str(peak_file)!r}, 'w').write(str(max(own, kids)))\n")
    proc = subprocess.run([sys.executable, "-c", measure, "index", str(docs), "--index",
                           str(tmp_path / "index")], capture_output=True, text=True,
                          timeout=600)
    stderr = proc.stderr
    peak_mb = int(peak_file.read_text()) / 1024  # KiB on Linux
    # Cut at the cap but indexed: a warning, not a skip (exit status 0).
    assert proc.returncode == 0, stderr
    assert re.search(r"^warning: \S+huge.txt: truncated", stderr, re.MULTILINE), stderr
    assert "skipped" not in stderr
    assert peak_mb < 600, f"peak RSS {peak_mb:.0f} MB"
    with SearchIndex(tmp_path / "index") as ix:
        assert {h.id for h in ix.search("policija", per_page=10).hits} == {"huge.txt"}
        assert ix.search("pinguinius").total == 0  # beyond the cap: not read at all
        assert ix.search("tiny").total == 1
