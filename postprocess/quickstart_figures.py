#!/usr/bin/python3
"""Draws every figure that the given results file(s) have the data for, the
summary table and (with coupling statistics) Table 2, into one directory, and
prints the paths (jobs/quickstart.sh ends with it). Several files give one
panel (or colour) per file. A figure whose group a file lacks is skipped with
a note on stderr.

    quickstart_figures.py runs/quickstart/results.h5 --out runs/quickstart/figures
"""
import os
import sys

if __package__:  # imported as nncas_post.quickstart_figures (pyproject.toml, the installed tree)
    from . import cli
    from . import plotting
    from . import reading
    from . import fig1b_spectra
    from . import fig1c_curves
    from . import fig1de_cc_heatmaps
    from . import fig1f_coupling
    from . import fig3_initscale
    from . import fig5_null
    from . import summary
    from . import table2
else:  # run as python3 postprocess/quickstart_figures.py, or postprocess/ on sys.path
    import cli
    import plotting
    import reading
    import fig1b_spectra
    import fig1c_curves
    import fig1de_cc_heatmaps
    import fig1f_coupling
    import fig3_initscale
    import fig5_null
    import summary
    import table2

# The figures, in drawing order: module with STEM, NEEDS (groups every file
# must have) or missing(results) (why the files cannot give the figure, None
# if they can), and draw(results).
FIGURES = [fig1b_spectra, fig1c_curves, fig1de_cc_heatmaps, fig1f_coupling, fig3_initscale, fig5_null]
READS = ([f"{m.STEM}: {m.READS}" for m in FIGURES] + [f"summary: {summary.READS}"]
         + [f"table2 (with /coupling/null): {table2.READS}"])


def lacking(m, results):
    """Why module m's figure cannot be drawn from results ('' if it can)."""
    if hasattr(m, "missing"):
        return m.missing(results) or ""
    return "; ".join(f"{r.path} has no /{g}" for r in results for g in m.NEEDS if not r.has(g))


def write_text(out, name, content, paths):
    q = os.path.join(out, name)
    with open(q, "w") as fh:
        fh.write(content)
    paths.append(q)


def draw_all(results, out):
    """Draws what the files allow; returns (paths, skipped messages)."""
    import matplotlib.pyplot as plt

    paths, skipped = [], []
    for m in FIGURES:
        why = lacking(m, results)
        if why:
            skipped.append(f"{m.STEM}: skipped ({why})")
            continue
        try:
            fig = m.draw(results)
        except reading.ResultsError as e:  # e.g. a diverged run without a finished epoch
            skipped.append(f"{m.STEM}: skipped ({e})")
            continue
        paths += plotting.save_figure(fig, out, m.STEM)
        plt.close(fig)
    summaries = [summary.summarize(r) for r in results]
    write_text(out, "summary.txt", summary.format_text(summaries), paths)
    write_text(out, "summary.csv", summary.format_csv(summaries), paths)
    no_null = [f"{r.path} has no /coupling/null" for r in results if not r.has("coupling/null")]
    if no_null:
        skipped.append(f"table2: skipped ({'; '.join(no_null)})")
    else:
        tables = [(r, table2.read(r)) for r in results]
        write_text(out, "table2.txt", table2.format_text(tables), paths)
        write_text(out, "table2.csv", table2.format_csv(tables), paths)
    return paths, skipped


def main(argv=None):
    p = cli.make_parser("quickstart_figures.py", __doc__.split("\n\n")[0], READS)
    cli.add_common_arguments(p)

    def body(argv):
        a = p.parse_args(argv)
        results = cli.load_all(a.results, a.labels)
        os.makedirs(a.out, exist_ok=True)
        try:
            paths, skipped = draw_all(results, a.out)
        finally:
            for r in results:
                r.close()
        for s in skipped:
            print(s, file=sys.stderr)
        for q in paths:
            print(q)
        return paths

    return cli.cli_main("quickstart_figures.py", body, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
