#!/usr/bin/python3
"""Table 2: the thresholds of the coupling statistics and the non-zero counts
s_0 that Algorithm 3 finds above them under the null hypothesis (n
observations of N_b^2 independent N(0, 1) variables; mean +- standard error
over the null draws), with the target the count must stay two orders of
magnitude below (N_b^2 N_b^e, e = 1/2, 1, 3/2). One table per results file.

    table2.py runs/vgg/results.h5                  # text on stdout
    table2.py runs/*/results.h5 --csv              # CSV on stdout
    table2.py runs/vgg/results.h5 --out figures    # also figures/table2.txt, table2.csv
"""
import csv
import io
import sys

import numpy as np

if __package__:  # imported as nncas_post.table2 (pyproject.toml, the installed tree)
    from . import cli
    from . import reading
else:  # run as python3 postprocess/table2.py, or postprocess/ on sys.path
    import cli
    import reading

READS = ("/coupling/null/{cc,skewness,kurtosis}: counts and the attributes threshold, count_mean, "
         "count_standard_error, target, N_b, n")
HEADERS = {"cc": "Correlation Coefficients", "skewness": "Skewness", "kurtosis": "Excess Kurtosis"}
CSV_COLUMNS = ["label", "file", "statistic", "N_b", "n", "null_draws", "threshold", "count_mean",
               "count_standard_error", "target", "counts"]


def read(res):
    """{stat: null dict} of the three statistics (reading.Results.coupling_null)."""
    return {s: res.coupling_null(s) for s in reading.STATS}


def _pm(m, se, draws):
    """'16.00 ± 1.67 SE (SD 3.73)': the mean over the B null draws, its standard
    error and the draws' standard deviation (SE sqrt(B)); the paper's "±" in
    Table 2 has the size of an SD (docs/reproduction.md)."""
    if not np.isfinite(se):
        return f"{m:.2f}"
    return f"{m:.2f} ± {se:.2f} SE (SD {se * np.sqrt(draws):.2f})"


def format_text(tables):
    """tables: [(Results-like with label and path, read(res))]."""
    out = []
    for res, t in tables:
        rows = [
            ["Test Statistics"] + [HEADERS[s] for s in reading.STATS],
            ["Non-zero Count s_0"] + [_pm(float(t[s]["count_mean"]), float(t[s]["count_standard_error"]), len(t[s]["counts"]))
                                      for s in reading.STATS],
            ["Threshold"] + [f"{float(t[s]['threshold']):g}" for s in reading.STATS],
            ["N_b"] + [str(int(t[s]["N_b"])) for s in reading.STATS],
            ["n (observations)"] + [str(int(t[s]["n"])) for s in reading.STATS],
            ["null draws B"] + [str(len(t[s]["counts"])) for s in reading.STATS],
            ["target / 100"] + [f"{float(t[s]['target']) / 100:.4g}" for s in reading.STATS],
        ]
        w = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
        out.append(f"run {res.label}: {res.path}")
        out.append("  Table 2: thresholds, and the counts above them under the null hypothesis (Algorithm 3)")
        for r in rows:
            out.append("  " + r[0].ljust(w[0]) + "".join("  " + v.rjust(wk) for v, wk in zip(r[1:], w[1:])))
        out.append("")
    return "\n".join(out)


def format_csv(tables):
    buf = io.StringIO()
    wr = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    wr.writeheader()
    for res, t in tables:
        for s in reading.STATS:
            d = t[s]
            wr.writerow({"label": res.label, "file": res.path, "statistic": s, "N_b": int(d["N_b"]), "n": int(d["n"]),
                         "null_draws": len(d["counts"]), "threshold": repr(float(d["threshold"])),
                         "count_mean": repr(float(d["count_mean"])),
                         "count_standard_error": repr(float(d["count_standard_error"])),
                         "target": repr(float(d["target"])), "counts": " ".join(f"{c:g}" for c in d["counts"])})
    return buf.getvalue()


def main(argv=None):
    p = cli.make_parser("table2.py", __doc__.split("\n\n")[0], READS)
    cli.add_common_arguments(p, default_out=None, out_help="also write DIR/table2.txt and DIR/table2.csv")
    p.add_argument("--csv", action="store_true", help="print CSV instead of the text table")

    def body(argv):
        a = p.parse_args(argv)
        results = cli.load_all(a.results, a.labels)
        try:
            tables = [(r, read(r)) for r in results]
            text, table = format_text(tables), format_csv(tables)
        finally:
            for r in results:
                r.close()
        paths = cli.write_table(text, table, a.csv, a.out, "table2")
        return tables, paths

    return cli.cli_main("table2.py", body, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
