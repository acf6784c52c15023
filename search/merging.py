"""When an incremental update merges segments: Whoosh's small-segment policy, plus deletions.

Whoosh deletes a document by marking it in its segment; the segment's statistics (how many
documents hold a term, the total length of a field, the number of documents) keep counting
it until the segment is rewritten. BM25's IDF and average lengths therefore drift away from
a fresh build's with every update or deletion, and with them the ranking. Whoosh's own
policy (``MERGE_SMALL``) rewrites only small segments, so in a large index the drift would
grow without bound. This policy also rewrites every segment whose deleted documents reach
:data:`MAX_DELETED_SHARE` of it: the drift stays below that share, and right after such a
merge the statistics are a fresh build's (but for field lengths, which a merge recounts from
Whoosh's one-byte length encoding: scores agree within about 1 %, the order is the same;
``tests/test_merging.py``).
"""

from __future__ import annotations

from typing import Any

from whoosh.reading import SegmentReader
from whoosh.writing import MERGE_SMALL

__all__ = ["MAX_DELETED_SHARE", "merge_small_and_deleted"]

#: A segment is rewritten without its deleted documents once they are this share of it.
#: (Lucene's TieredMergePolicy allows 20-33 %. A rewrite copies the segment's postings and
#: stored fields, work in proportion to its size: a lower share means closer statistics but
#: more such work per deleted document.)
MAX_DELETED_SHARE = 0.1


def too_many_deleted(segment: Any, share: float = MAX_DELETED_SHARE) -> bool:
    """Whether a segment's deleted documents reach ``share`` of all its documents."""
    deleted = segment.deleted_count()
    return deleted > 0 and deleted >= share * segment.doc_count_all()


def merge_small_and_deleted(writer: Any, segments: list[Any]) -> list[Any]:
    """A Whoosh merge policy (``writer.commit(mergetype=...)``): ``MERGE_SMALL``, then every
    remaining segment with too many deletions is merged into the new segment too (which
    drops its deleted documents). Returns the segments kept as they are."""
    kept = []
    for segment in MERGE_SMALL(writer, segments):
        if too_many_deleted(segment):
            reader = SegmentReader(writer.storage, writer.schema, segment)
            try:
                writer.add_reader(reader)
            finally:
                reader.close()
        else:
            kept.append(segment)
    return kept
