#!/usr/bin/python3
"""Draws every figure that the given results file(s) have the data for, and
the summary table, into one directory, and prints the paths (jobs/quickstart.sh
ends with it). Several files give one panel (or colour) per file. A figure
whose group a file lacks is skipped with a note on stderr.

    quickstart_figures.py runs/quickstart/results.h5 --out runs/quickstart/figures
"""
import os
import sys

import common
import fig1b_spectra
import fig1c_curves
import summary

# The figures, in drawing order: module with STEM, NEEDS (groups), draw(results).
# Figures of later groups (coupling statistics, the init-scaling study) go here.
FIGURES = [fig1b_spectra, fig1c_curves]
READS = [f"{m.STEM}: {m.READS}" for m in FIGURES] + [f"summary: {summary.READS}"]


def draw_all(results, out):
    """Draws what the files allow; returns (paths, skipped messages)."""
    import matplotlib.pyplot as plt

    paths, skipped = [], []
    for m in FIGURES:
        lacking = [f"{r.path} has no /{g}" for r in results for g in m.NEEDS if not r.has(g)]
        if lacking:
            skipped.append(f"{m.STEM}: skipped ({'; '.join(lacking)})")
            continue
        fig = m.draw(results)
        paths += common.save_figure(fig, out, m.STEM)
        plt.close(fig)
    summaries = [summary.summarize(r) for r in results]
    for name, content in (("summary.txt", summary.format_text(summaries)), ("summary.csv", summary.format_csv(summaries))):
        q = os.path.join(out, name)
        with open(q, "w") as fh:
            fh.write(content)
        paths.append(q)
    return paths, skipped


def main(argv=None):
    p = common.make_parser("quickstart_figures.py", __doc__.split("\n\n")[0], READS)
    common.add_common_arguments(p)

    def body(argv):
        a = p.parse_args(argv)
        results = common.load_all(a.results, a.labels)
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

    return common.cli_main("quickstart_figures.py", body, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
