"""A large pairing pass shared among the machine's cores.

Pairing a whole site (a rebuild, a first index) makes a profile of every document and scores
every document's candidates: work that does not depend on the order it is done in, so it
is split among forked processes, which inherit the pass (the open index, its caches) and
send back what they made. First the profiles of the pass's documents are made (each process
a share of them), then, with every profile at hand, each process scores the candidates of
its share of the documents. The parent keeps both in the pass's caches
(:class:`~search.pair_matching.MatchingPass`) and decides the links itself, in the same
order as ever, so the links found are those of a pass on one core.

Only a process with no other threads forks (a thread holding a lock at the fork would leave
the child waiting for it forever; see :func:`_alone`); on any failure the parent just does
the work itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from search.pair_matching import MatchingPass, PairingStats

log = logging.getLogger(__name__)

#: Processes a pass is shared among at most.
MAX_WORKERS = 4


def workers_for(documents: int, share_from: int) -> int:
    """How many processes a pass over ``documents`` documents is shared among (1: none)."""
    if documents < max(share_from, 2) or not _alone():
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS, documents))


def _alone() -> bool:
    """Whether this thread is the process's only one, but for the feeder threads that
    multiprocessing leaves behind a queue (Whoosh's writer on several cores leaves one):
    they hold only their own queue's locks, which a forked child never touches."""
    me = threading.current_thread()
    return all(t is me or t.name == "QueueFeederThread" for t in threading.enumerate())


def share_work(run: MatchingPass, docnums: list[int]) -> int:
    """Make the profiles and the scored candidates of ``docnums`` in several processes when
    the pass is large enough (see :func:`workers_for`), into ``run``'s caches; returns the
    number of processes used (1: none, the caller's pass makes them as it goes)."""
    workers = workers_for(len(docnums), run.limits.share_from)
    if workers < 2:
        return 1
    # One language's documents together: they share words to analyse and translate, and
    # their candidates' postings are all in the other language's fields.
    ordered = sorted(docnums, key=lambda n: run.stored(n).get("lang") or "")
    size = -(-len(ordered) // workers)
    shares = [ordered[i:i + size] for i in range(0, len(ordered), size)]
    try:
        made = _in_children([_task(run, share, run.profile) for share in shares])
        for profiles, stats in made:
            run.keep_profiles(profiles)
            _add(run.stats, stats)
        made = _in_children([_task(run, share, run.ranked) for share in shares])
        for ranked, stats in made:
            run.keep_ranked(ranked)
            _add(run.stats, stats)
    except Exception:  # noqa: BLE001 - the pass goes on on one core
        log.exception("Pairing on %d cores failed; pairing on one", workers)
        return 1
    run.stats.workers = workers
    return workers


def _task(run: MatchingPass, share: list[int],
          make: Callable[[int], Any]) -> Callable[[], tuple[dict[int, Any], PairingStats]]:
    def work() -> tuple[dict[int, Any], PairingStats]:
        run.stats = PairingStats()  # this process's share only
        return {n: make(n) for n in share}, run.stats
    return work


def _in_children(tasks: list[Callable[[], Any]]) -> list[Any]:
    """Each task's result, each run in a forked process."""
    ctx = multiprocessing.get_context("fork")
    started = []
    try:
        for task in tasks:
            receive, send = ctx.Pipe(duplex=False)
            child = ctx.Process(target=_child, args=(task, send), daemon=True)
            child.start()
            send.close()  # the child's end: a child that dies makes recv() raise EOFError
            started.append((child, receive))
        results = []
        for _child_process, receive in started:
            ok, result = receive.recv()
            if not ok:
                raise RuntimeError(f"pairing worker failed: {result}")
            results.append(result)
        return results
    finally:
        for child, receive in started:
            receive.close()
            child.join(timeout=5)
            if child.is_alive():
                child.kill()
                child.join()


def _child(task: Callable[[], Any], send: Any) -> None:
    try:
        result = (True, task())
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which goes on
        result = (False, repr(exc))
    send.send(result)
    send.close()


def _add(total: PairingStats, part: PairingStats) -> None:
    """Add a process's counts to the pass's (largest per document: the larger)."""
    for f in fields(PairingStats):
        name = f.name
        if name.startswith("most_"):
            setattr(total, name, max(getattr(total, name), getattr(part, name)))
        elif f.type in ("int", int) and name not in ("linked", "unlinked", "workers"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
