"""The command line of the postprocess tools: the arguments every figure
script takes, opening its results files, and errors as one line
`PROG: error: ...` with exit status 1, as nncas does.

A figure script is a `draw(results, ...) -> Figure` and
    def main(argv=None):
        p = cli.make_parser("figX.py", __doc__.split("\n\n")[0], READS)
        cli.add_common_arguments(p)
        p.add_argument(...)                       # the figure's own options
        return cli.figure_main("figX.py", p, STEM, lambda results, a: draw(results, ...), argv)
and is listed in quickstart_figures.FIGURES with the group it needs.
"""
import argparse
import os
import sys
import textwrap

if __package__:  # imported as nncas_post.cli (pyproject.toml, the installed tree)
    from .plotting import save_figure
    from .reading import Results, ResultsError
else:  # run as python3 postprocess/cli.py, or postprocess/ on sys.path
    from plotting import save_figure
    from reading import Results, ResultsError

def add_common_arguments(p, default_out="figures", out_help=None):
    p.add_argument("results", nargs="+", metavar="RESULTS.h5",
                   help="nncas results file(s) (OUTPUT_DIR/results.h5, or OUTPUT_DIR itself)")
    p.add_argument("--out", default=default_out, metavar="DIR",
                   help=out_help or f"output directory (default: {default_out})")
    p.add_argument("--labels", metavar="A,B,...", help="names of the runs (default: each file's directory name)")


def make_parser(prog, description, reads):
    """An argparse parser whose --help ends with the groups the tool reads
    (reads: a string, or a list of them, one item each)."""
    items = [reads] if isinstance(reads, str) else list(reads)
    text = "\n".join(textwrap.fill(r, 79, initial_indent="  - ", subsequent_indent="    ") for r in items)
    return argparse.ArgumentParser(
        prog=prog, description=description + "\n\nReads from each results file:\n" + text,
        formatter_class=argparse.RawDescriptionHelpFormatter)


def load_all(paths, labels=None):
    """Open every file (all or none: closes those opened on an error)."""
    names = labels.split(",") if labels else [None] * len(paths)
    if len(names) != len(paths):
        raise ResultsError(f"--labels gives {len(names)} names for {len(paths)} files")
    out = []
    try:
        for p, n in zip(paths, names):
            out.append(Results(p, n))
    except ResultsError:
        for r in out:
            r.close()
        raise
    return out


def cli_main(prog, body, argv=None):
    """Run body(argv); a ResultsError becomes one line 'PROG: error: ...' and exit status 1."""
    try:
        return body(argv)
    except ResultsError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None


def figure_main(prog, parser, stem, draw, argv=None, check=None):
    """The whole of a figure script's main: parse argv (then check(args), which
    may call parser.error, before any file is opened), open the results files,
    fig = draw(results, args), close them, save OUT/STEM.png and .pdf, print
    the paths (returned)."""

    def body(argv):
        a = parser.parse_args(argv)
        if check:
            check(a)
        results = load_all(a.results, a.labels)
        try:
            fig = draw(results, a)
        finally:
            for r in results:
                r.close()
        paths = save_figure(fig, a.out, stem)
        for q in paths:
            print(q)
        return paths

    return cli_main(prog, body, argv)


def write_table(text, table, csv, outdir, stem):
    """A table tool's output: the text (or with csv the CSV) on stdout, and
    both as OUT/STEM.txt and OUT/STEM.csv when outdir is given; returns the
    paths written."""
    sys.stdout.write(table if csv else text)
    paths = []
    if outdir:
        os.makedirs(outdir, exist_ok=True)
        for name, content in ((f"{stem}.txt", text), (f"{stem}.csv", table)):
            q = os.path.join(outdir, name)
            with open(q, "w") as fh:
                fh.write(content)
            paths.append(q)
    return paths
