"""``search-cli``: index folders, search them, serve the web app, evaluate rankings.

Imports of heavy modules happen inside commands, so ``search-cli query`` starts fast.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import click

from search.storage import ENV_INDEX

#: Exit status of ``index`` when some inputs were skipped (everything else was indexed).
EXIT_SKIPPED = 3

INDEX_OPTION = click.option(
    "--index", "index_dir", envvar=ENV_INDEX, default="index", show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Index folder (also set by ${ENV_INDEX}).")
LANG_CHOICE = click.Choice(["en", "sl"])


def _open(index_dir: Path):
    from search.errors import SearchError
    from search.searcher import SearchIndex

    try:
        return SearchIndex(index_dir)
    except SearchError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bilingual-search")
def cli() -> None:
    """Bilingual (English + Slovenian) full-text search.

    Index folders of .txt, .html and .jsonl files, then search them from the terminal or
    the web. Start with:  search-cli index seeds/  and  search-cli query policija
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
@click.option("-q", "--quiet", is_flag=True, help="Print only problems.")
def index(paths: tuple[Path, ...], index_dir: Path, rebuild: bool, procs: int | None,
          timeout: float, quiet: bool) -> None:
    """Index files and folders (recursively): .txt, .html/.htm/.xhtml and .jsonl.

    Updating is incremental: only changed files are re-read, deleted ones are removed.
    Files that cannot be read are reported and skipped; the exit status is then 3.
    """
    from search.errors import SearchError
    from search.indexer import index_paths

    bar = None
    show = not quiet and sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if not show:
            return
        if bar is None:
            bar = click.progressbar(length=total, label="Indexing files", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        report = index_paths(paths, index_dir, rebuild=rebuild, progress=progress, procs=procs,
                             timeout=timeout)
    except SearchError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for problem in report.problems:
        click.echo(f"skipped: {problem}", err=True)
    if not quiet:
        click.echo(f"Indexed {report.indexed} documents into {index_dir} "
                   f"({report.added} added, {report.updated} updated, {report.deleted} deleted, "
                   f"{report.unchanged} unchanged) in {report.seconds:.1f} s.")
        if report.problems:
            click.echo(f"{len(report.problems)} input(s) skipped; see above.", err=True)
    if report.problems:
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
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
def query(words: tuple[str, ...], index_dir: Path, lang: str | None, year: str | None,
          sort: str, limit: int, page: int, verbatim: bool, as_json: bool) -> None:
    """Search the index for WORDS (quote them or not).

    Syntax: words, "phrases", -exclude, +require, title:word, prefix*, lang:sl, year:2024.
    A query none of whose words is in the index is corrected ("passwrd" searches
    "password") unless --no-correct is given.

    \b
    Examples:
      search-cli query policija --lang sl
      search-cli query passwrd --no-correct
    """
    text = " ".join(words)
    with _open(index_dir) as ix:
        results = ix.search(text, lang=lang, year=year, sort=sort, page=page, per_page=limit,
                            correct=not verbatim)
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
        langs = ", ".join(f"{k}: {v}" for k, v in results.facets.get("lang", {}).items())
        click.echo(f"{results.total} results ({langs}); showing {first}-{last}, "
                   f"{results.elapsed_ms:.0f} ms\n")
    for hit in results.hits:
        meta = " · ".join(x for x in (hit.lang, hit.date, hit.id) if x)
        click.echo(f"{hit.rank}. " + click.style(hit.title or hit.id, bold=True))
        click.echo("   " + click.style(meta, dim=True))
        if hit.translated_terms:
            click.echo("   " + click.style("via translation: " + ", ".join(hit.translated_terms),
                                           fg="cyan"))
        click.echo("   " + _terminal_snippet(hit.snippet) + "\n")
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
              help="Port to listen on (0 picks a free one).")
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Worker threads of the waitress server (in each worker process).")
@click.option("--workers", type=click.IntRange(1, 16), default=1, show_default=True,
              help="Server processes sharing the port: searches use that many cores.")
@click.option("--public", is_flag=True,
              help="Allow listening on a non-loopback address (exposes the server).")
@click.option("--rate-limit", type=click.IntRange(0, 100_000), default=0, show_default=True,
              help="Search requests per minute per client; 0 turns the limit off.")
def serve(index_dir: Path, host: str, port: int, threads: int, workers: int, public: bool,
          rate_limit: int) -> None:
    """Serve the web search page and JSON API (builds the index from seeds/ if empty)."""
    import ipaddress

    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not public:
        raise click.ClickException(f"Refusing to listen on {host}: it is reachable from other "
                                   "machines. Add --public if that is what you want.")
    from web.server import serve as run_server

    kwargs = {"rate_limit": rate_limit} if rate_limit else {}
    run_server(host=host, port=port, index=str(index_dir), threads=threads, workers=workers,
               **kwargs)


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
    """Write a TREC run (qid Q0 docid rank score tag) for a query file."""
    from search.evaluation import read_queries, run_queries, write_trec_run

    with _open(index_dir) as ix:
        results = run_queries(ix, read_queries(queries_file), lang=lang, limit=limit)
    write_trec_run(results, output, tag)


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
    """Score the ranking with ir-measures: RR@10, nDCG@10 and R@100."""
    from search.evaluation import evaluate as score
    from search.evaluation import read_queries, run_queries

    queries = read_queries(queries_file)
    with _open(index_dir) as ix:
        results = run_queries(ix, queries, lang=lang, limit=limit)
    scores = score(results, qrels)
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
