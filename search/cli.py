"""``search-cli``: index folders, search them, serve the web app, evaluate rankings.

Imports of heavy modules happen inside commands, so ``search-cli query`` starts fast.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from search.analysis import LANGUAGES
from search.dates import readable_date
from search.model import UNKNOWN
from search.storage import ENV_INDEX

#: Exit status of ``index`` when some inputs were skipped (everything else was indexed).
EXIT_SKIPPED = 3
#: Exit status of ``index`` when the given paths held no document at all (none exists, or
#: they hold no readable file): nothing was indexed.
EXIT_NOTHING = 4

INDEX_OPTION = click.option(
    "--index", "index_dir", envvar=ENV_INDEX, default="index", show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Index folder (also set by ${ENV_INDEX}).")
#: Every indexed language, and "und": documents of unknown language.
LANG_CHOICE = click.Choice([*LANGUAGES, UNKNOWN])


SYNONYMS_OPTION = click.option(
    "--synonyms", "synonym_files", multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A synonyms file (one group a line: 'mnz, ministrstvo za notranje zadeve' or "
         "'eu => evropska unija'; [sl]/[en] sections); may be repeated.")


def _load_synonyms(files: tuple[Path, ...]):  # noqa: ANN202 - search.synonyms.Synonyms
    """The synonyms of ``files``, their bad lines reported (and skipped), or None."""
    if not files:
        return None
    from search.synonyms import Synonyms, SynonymsError

    try:
        synonyms = Synonyms.load(files)
    except SynonymsError as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in synonyms.problems:
        click.echo(f"synonyms: {problem}", err=True)
    return synonyms


def _count(n: int, word: str, plural: str | None = None) -> str:
    """``1 document``, ``2 documents``: a number and its noun (CLI text is English)."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def _open(index_dir: Path, **options: object):
    from search.errors import SearchError
    from search.searcher import SearchIndex

    try:
        return SearchIndex(index_dir, **options)
    except SearchError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bilingual-search")
def cli() -> None:
    """Bilingual (English + Slovenian) full-text search.

    Index folders of .txt, .html, .jsonl, .pdf, .docx and .odt files, then search them from
    the terminal or the web. Start with:  search-cli index seeds/  and  search-cli query policija
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@INDEX_OPTION
@click.option("--rebuild", is_flag=True,
              help="Build a fresh index (swapped in atomically) instead of updating.")
@click.option("--procs", type=click.IntRange(1, 64), default=None,
              help="Indexing processes (default: all cores for large fresh builds).")
@click.option("--timeout", type=float, default=60.0, show_default=True,
              help="Seconds to wait for another process that is writing the index.")
@click.option("--no-find-translations", "no_pairing", is_flag=True,
              help="Do not look for the unmarked translations of new or changed documents "
                   "(faster; they are looked for by the next run without this flag).")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems.")
def index(paths: tuple[Path, ...], index_dir: Path, rebuild: bool, procs: int | None,
          timeout: float, no_pairing: bool, quiet: bool) -> None:
    """Index files and folders (recursively): .txt, .html/.htm/.xhtml, .jsonl, .pdf, .docx
    and .odt.

    Updating is incremental: only changed files are re-read, deleted ones are removed.
    Files (and JSONL lines) that cannot be read (encrypted, corrupt, scanned PDFs...) are
    reported and skipped; the exit status is then 3. If the paths hold no document at all
    (none of them exists, or nothing in them is readable), the exit status is 4; when none
    exists, no index is created or changed. Files indexed with a caveat (cut at the 5 MB
    cap...) are reported as warnings. On a terminal, progress is shown by document (and by
    page of a PDF).
    """
    from search.cli_progress import StatusLine, describe
    from search.errors import SearchError
    from search.indexer import index_paths
    from search.progress import IndexProgress
    from search.storage import not_writable_message

    status = StatusLine(enabled=False if quiet else None)

    def show(p: IndexProgress) -> None:
        if p.files_total:  # (an update with nothing to read shows nothing)
            status.show(describe(p))

    try:
        with status:
            report = index_paths(paths, index_dir, rebuild=rebuild, procs=procs,
                                 timeout=timeout, on_progress=show,
                                 find_translations=not no_pairing)
    except SearchError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:  # the index folder became unwritable, the disk is full...
        raise click.ClickException(not_writable_message(index_dir, exc)) from exc
    for problem in report.problems:
        click.echo(f"skipped: {problem}", err=True)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not any(p.expanduser().exists() for p in paths):  # index_paths left everything alone
        click.echo(f"Nothing to index: none of the given paths exists. The index at "
                   f"{index_dir} was not created or changed.", err=True)
        sys.exit(EXIT_NOTHING)
    if not quiet:
        click.echo(f"Indexed {_count(report.indexed, 'document')} into {index_dir} "
                   f"({report.added:,} added, {report.updated:,} updated, "
                   f"{report.deleted:,} deleted, {report.unchanged:,} unchanged) "
                   f"in {report.seconds:.1f} s.")
    if report.indexed + report.unchanged == 0:
        from search.documents import SUPPORTED_EXTENSIONS

        click.echo("warning: no documents found in " + ", ".join(map(str, paths))
                   + " (files read: " + ", ".join(sorted(SUPPORTED_EXTENSIONS)) + ")"
                   + (f"; {_count(len(report.problems), 'input')} skipped, see above"
                      if report.problems else "") + ".", err=True)
        sys.exit(EXIT_NOTHING)
    if report.problems:
        if not quiet:
            click.echo(f"{_count(len(report.problems), 'input')} skipped; see above.", err=True)
        sys.exit(EXIT_SKIPPED)


def _terminal_snippet(snippet: str) -> str:
    """Snippet HTML for a terminal: matches emphasised, entities decoded."""
    parts = re.split(r"(<mark>.*?</mark>)", snippet)
    out = []
    for part in parts:
        if part.startswith("<mark>"):
            out.append(click.style(html.unescape(part[6:-7]), bold=True, fg="yellow"))
        else:
            out.append(html.unescape(part))
    return "".join(out)


@cli.command()
@click.argument("words", nargs=-1, required=True)
@INDEX_OPTION
@click.option("--lang", type=LANG_CHOICE, help="Only documents in this language.")
@click.option("--year", help="Only documents dated in this year.")
@click.option("--sort", type=click.Choice(["relevance", "newest"]), default="relevance",
              show_default=True, help="Result order.")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Results per page.")
@click.option("--page", type=click.IntRange(1, 10_000), default=1, show_default=True,
              help="Page of results.")
@click.option("--no-correct", "verbatim", is_flag=True,
              help="Search misspelt words as typed, even when nothing matches them.")
@click.option("--no-group", "separate", is_flag=True,
              help="List a document and its translation as two results (by default, with "
                   "no --lang, a pair is one result: the better-ranked version).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
@SYNONYMS_OPTION
def query(words: tuple[str, ...], index_dir: Path, lang: str | None, year: str | None,
          sort: str, limit: int, page: int, verbatim: bool, separate: bool, as_json: bool,
          synonym_files: tuple[Path, ...]) -> None:
    """Search the index for WORDS (quote them or not).

    Syntax: words, "phrases", -exclude, +require, title:word, prefix*, lang:sl, year:2024.
    A filter alone (year:2024, or --year 2024 '*') lists the documents, newest first.
    A query none of whose words is in the index is corrected ("passwrd" searches
    "password") unless --no-correct is given. With no --lang, a document and its
    translation are one result, the better-ranked version, its line ending in "also in sl:
    ID" (--no-group lists both; JSON: translation_id, grouped, folded).

    \b
    Examples:
      search-cli query policija --lang sl
      search-cli query passwrd --no-correct
      search-cli query mnz --synonyms synonyms/sl.txt
      search-cli query "police cooperation" --no-group
    """
    text = " ".join(words)
    synonyms = _load_synonyms(synonym_files)
    with _open(index_dir, **({"synonyms": synonyms} if synonyms else {})) as ix:
        results = ix.search(text, lang=lang, year=year, sort=sort, page=page, per_page=limit,
                            correct=not verbatim, group=not separate)
    if as_json:
        click.echo(json.dumps(results.to_dict(), ensure_ascii=False, indent=2))
        return
    if results.corrected:
        click.echo(f"Showing results for {results.corrected!r}; search instead for {text!r} "
                   "with --no-correct.\n")
    first = (results.page - 1) * results.per_page + 1
    last = first + len(results.hits) - 1
    if not results.hits:
        click.echo(f"No results for {text!r}.")
    else:
        langs = ", ".join(f"{k}: {v:,}" for k, v in results.facets.get("lang", {}).items())
        shown = f"{first}" if first == last else f"{first}-{last}"
        folded = (f"; {_count(results.folded, 'pair')} of translations shown once "
                  "(--no-group lists both)") if results.folded else ""
        click.echo(f"{_count(results.total, 'result')} ({langs}); showing {shown}, "
                   f"{results.elapsed_ms:.0f} ms{folded}\n")
    for hit in results.hits:
        page = f"page {hit.page}" if hit.page else None
        also = (f"also in {hit.translation_lang or '?'}: {hit.translation_id}"
                if hit.translation_id else None)
        meta = " · ".join(x for x in (hit.lang, readable_date(hit.date), hit.id, page, also)
                          if x)
        click.echo(f"{hit.rank}. " + click.style(hit.title or hit.id, bold=True))
        click.echo("   " + click.style(meta, dim=True))
        if hit.translated_terms:
            click.echo("   " + click.style("via translation: " + ", ".join(hit.translated_terms),
                                           fg="cyan"))
        click.echo("   " + _terminal_snippet(hit.snippet) + "\n")
    for rule in results.synonyms:
        click.echo(f"Also searched, as synonyms of {rule['matched']!r}: "
                   + ", ".join(rule["expanded"]))
    if results.suggestion:
        click.echo(f"Did you mean: {results.suggestion}")


@cli.command()
@INDEX_OPTION
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
def stats(index_dir: Path, as_json: bool) -> None:
    """Show the index's size, languages, years and engine version."""
    from dataclasses import asdict

    with _open(index_dir) as ix:
        info = ix.stats()
    if as_json:
        click.echo(json.dumps(asdict(info), ensure_ascii=False, indent=2))
        return
    click.echo(f"Index:     {info.path}")
    click.echo(f"Documents: {info.doc_count}")
    click.echo("Languages: " + (", ".join(f"{k} {v}" for k, v in info.by_lang.items()) or "-"))
    click.echo("Years:     " + (", ".join(f"{k} {v}" for k, v in info.by_year.items()) or "-"))
    click.echo(f"Engine:    {info.engine_version}")


@cli.command()
@INDEX_OPTION
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything beyond localhost needs --public.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              envvar="PORT", help="Port to listen on (0 picks a free one; also $PORT).")
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Worker threads of the waitress server (in each worker process).")
@click.option("--workers", type=click.IntRange(1, 16), default=1, show_default=True,
              help="Server processes sharing the port: searches use that many cores.")
@click.option("--public", is_flag=True,
              help="Allow listening on a non-loopback address (exposes the server).")
@click.option("--rate-limit", type=click.IntRange(0, 100_000), default=0, show_default=True,
              help="Search requests per minute per client; 0 turns the limit off.")
@click.option("--query-log", type=click.Path(dir_okay=False, path_type=Path),
              help="Append one JSON line per search to this file (time, query, filters, "
                   "result count, page; no IP address). Off by default. "
                   "Summarise it with: search-cli insights FILE")
@SYNONYMS_OPTION
@click.option("--query-log-max-mb", type=click.FloatRange(0.01, 10_000), default=10.0,
              show_default=True, help="Rotate the query log at this size (5 older files kept).")
@click.option("--api-key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="File of API keys, one a line, that may add and delete documents through "
                   "/api/documents (also $SEARCH_API_KEYS). Without keys the API is read-only.")
def serve(index_dir: Path, host: str, port: int, threads: int, workers: int, public: bool,
          rate_limit: int, query_log: Path | None, query_log_max_mb: float,
          synonym_files: tuple[Path, ...], api_key_file: Path | None) -> None:
    """Serve the web search page and JSON API (builds the index from seeds/ if empty).

    \b
    Examples:
      search-cli serve                          # http://127.0.0.1:8080/
      search-cli serve --workers 2 --port 9000  # one process per core
      search-cli serve --query-log queries.jsonl
      search-cli serve --synonyms synonyms/sl.txt --synonyms synonyms/en.txt
      search-cli serve --api-key-file keys.txt  # allow writes through /api/documents
      search-cli serve --host 0.0.0.0 --public  # reachable from other machines
    """
    import ipaddress

    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not public:
        raise click.ClickException(f"Refusing to listen on {host}: it is reachable from other "
                                   "machines. Add --public if that is what you want.")
    from web.documents import load_api_keys
    from web.server import serve as run_server

    try:
        api_keys = load_api_keys(api_key_file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    kwargs: dict[str, object] = {"rate_limit": rate_limit} if rate_limit else {}
    if api_keys:
        kwargs["api_keys"] = api_keys
    config: dict[str, object] = {}
    synonyms = _load_synonyms(synonym_files)
    if synonyms is not None:
        config["SEARCH_OPTIONS"] = {"synonyms": synonyms}
    if query_log is not None:
        _check_writable(query_log)
        config.update(QUERY_LOG=str(query_log),
                      QUERY_LOG_MAX_BYTES=int(query_log_max_mb * 1024 * 1024))
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    run_server(host=host, port=port, index=str(index_dir), threads=threads, workers=workers,
               config=config, **kwargs)


def _check_writable(path: Path) -> None:
    """Fail now, with a clear message, rather than silently logging nothing later."""
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise click.ClickException(f"Cannot write the query log {path}: "
                                   f"{exc.strerror or exc}") from exc


@cli.command()
@click.argument("log_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many queries each list shows.")
@click.option("--no-rotated", is_flag=True,
              help="Read only LOG_FILE, not its rotated predecessors (LOG_FILE.1 ...).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
def insights(log_file: Path, top: int, no_rotated: bool, as_json: bool) -> None:
    """What people searched for, from a query log written by serve --query-log.

    Shows the top queries, the top queries that found nothing, and the queries with more
    than one page of results whose later pages nobody opened. Queries are grouped
    regardless of case and spacing. Broken lines are reported as FILE:LINE and skipped.

    \b
    Examples:
      search-cli insights queries.jsonl
      search-cli insights queries.jsonl --top 25 --json
    """
    from search.querylog import log_files, read_entries, summarize

    files = [log_file] if no_rotated else log_files(log_file)
    if not files or not log_file.exists():
        raise click.ClickException(f"No query log at {log_file}.")
    problems: list[str] = []
    try:
        summary = summarize(read_entries(files, problems), top=top)
    except OSError as exc:
        raise click.ClickException(f"Cannot read {exc.filename}: {exc.strerror}") from exc
    for problem in problems:
        click.echo(f"skipped: {problem}", err=True)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{_count(summary.searches, 'search', 'searches')} "
               f"({_count(summary.distinct, 'distinct query', 'distinct queries')}), "
               f"{_count(summary.no_results, 'without results', 'without results')}, "
               f"{_count(summary.corrected, 'corrected', 'corrected')}; "
               f"{_count(summary.page_views, 'page view', 'page views')} in "
               f"{_count(len(files), 'file', 'files')}.")
    for title, rows in (("Top queries", summary.top),
                        ("Top queries with no results", summary.top_no_results),
                        ("Queries nobody paged past (more than one page of results)",
                         summary.not_paged)):
        click.echo(f"\n{title}:")
        if not rows:
            click.echo("  (none)")
            continue
        width = max(len(row.query) for row in rows)
        for row in rows:
            click.echo(f"  {row.searches:>6}  {row.query:<{width}}  "
                       f"{_count(row.results, 'result', 'results')}")



@contextlib.contextmanager
def _query_status() -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` for run_queries: "Queries: 120/500" on a terminal."""
    from search.cli_progress import StatusLine

    with StatusLine() as status:
        yield lambda done, total: status.show(f"Queries: {done:,}/{total:,}",
                                              force=done == total)


@cli.command()
@INDEX_OPTION
@click.option("--queries", "queries_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSONL file of {\"id\", \"text\"} queries.")
@click.option("--lang", type=LANG_CHOICE, help="Restrict results to this language.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True,
              help="Results per query.")
@click.option("--output", type=click.File("w"), default="-", show_default=True,
              help="Where to write the TREC run.")
@click.option("--tag", default="bilingual-search", show_default=True,
              help="Run tag (last column).")
def run(index_dir: Path, queries_file: Path, lang: str | None, limit: int, output,
        tag: str) -> None:
    """Write a TREC run (qid Q0 docid rank score tag) for a query file.

    A query file with a bad line is refused (each bad line named), exit status 1.
    """
    from search.evaluation import read_queries, run_queries, write_trec_run

    queries = _checked(read_queries, queries_file)
    with _open(index_dir) as ix, _query_status() as progress:
        results = run_queries(ix, queries, lang=lang, limit=limit, progress=progress)
    write_trec_run(results, output, tag)


def _checked(read, path):
    """``read(path)``, a bad file ending the command with its message (exit status 1)."""
    from search.errors import SearchError

    try:
        return read(path)
    except SearchError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command("eval")
@INDEX_OPTION
@click.option("--queries", "queries_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSONL file of {\"id\", \"text\"} queries.")
@click.option("--qrels", required=True, type=click.Path(exists=True, dir_okay=False),
              help="TREC qrels file (qid 0 docid rel).")
@click.option("--lang", type=LANG_CHOICE, help="Restrict results to this language.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True,
              help="Results per query.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
def evaluate(index_dir: Path, queries_file: Path, qrels: str, lang: str | None, limit: int,
             as_json: bool) -> None:
    """Score the ranking with ir-measures: RR@10, nDCG@10 and R@100.

    A query or qrels file with a bad line is refused (each bad line named), exit status 1.
    """
    from search.evaluation import evaluate as score
    from search.evaluation import read_qrels, read_queries, run_queries

    queries = _checked(read_queries, queries_file)
    judgements = _checked(read_qrels, qrels)  # checked before the (long) run
    with _open(index_dir) as ix, _query_status() as progress:
        results = run_queries(ix, queries, lang=lang, limit=limit, progress=progress)
    scores = score(results, judgements)
    if as_json:
        click.echo(json.dumps({"queries": len(queries), **scores}, indent=2))
        return
    click.echo(f"queries  {len(queries)}")
    for name, value in scores.items():
        click.echo(f"{name:<8} {value:.4f}")


def main() -> None:
    cli(prog_name="search-cli")


if __name__ == "__main__":
    main()
