"""The one room that knows Whoosh's internals.

Everything here replaces or repairs a part of stock Whoosh for speed or correctness, using
names Whoosh does not publish; the rest of ``search`` uses Whoosh's public API only. Each
module's docstring says what stock Whoosh does and why ours differs, and each replacement is
pinned by an equivalence test against stock Whoosh.
"""
