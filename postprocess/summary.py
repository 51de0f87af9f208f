#!/usr/bin/python3
"""Summary table per run: for each epoch with a spectrum the risk on the
Hessian's samples, the extreme eigenvalues, the Theorem 1 statistics
(|lambda_min|/lambda_max, negative mass fraction, symmetry distances W1 and TV,
the Theorem 1(c) ratio ||H||_2 / E|l'|) and Hutchinson's trace; then the final
training and validation loss and accuracy.

    summary.py runs/lenet/results.h5 runs/vgg/results.h5            # text on stdout
    summary.py runs/*/results.h5 --csv                              # CSV on stdout
    summary.py runs/quickstart/results.h5 --out figures             # also figures/summary.txt, summary.csv
"""
import csv
import io
import os
import sys

import numpy as np

import common

READS = ("/spectrum/epoch_EEEE (attribute risk; extremes/lambda_min, lambda_max; the attributes of "
         "statistics/; density/ritz_values, ritz_weights, steps with --zero-tol) and /training "
         "(epoch, train_loss, train_acc, val_loss, val_acc). A file needs at least one of the two.")

# (CSV column, text header, text width, format)
SPECTRUM_COLUMNS = [
    ("epoch", "epoch", 5, "{:d}"),
    ("risk", "risk", 9, "{:.5f}"),
    ("lambda_min", "lambda_min", 11, "{:.4e}"),
    ("lambda_max", "lambda_max", 11, "{:.4e}"),
    ("abs_min_over_max", "|min|/max", 9, "{:.4f}"),
    ("negative_mass_fraction", "neg.mass", 8, "{:.4f}"),
    ("symmetry_w1", "sym.W1", 8, "{:.2e}"),
    ("symmetry_tv", "sym.TV", 7, "{:.4f}"),
    ("norm2_over_mean_abs_loss_derivative", "|H|/E|l'|", 10, "{:.4e}"),
    ("trace", "trace", 11, "{:+.4e}"),
    ("trace_standard_error", "+- s.e.", 9, "{:.2e}"),
]
CURVE_COLUMNS = ["train_loss", "train_acc", "val_loss", "val_acc"]


def _num(v):
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v


def summarize(res, zero_tol=None):
    """{'label', 'path', 'meta': {...}, 'rows': [{column: value}], 'final': {...} or None}.
    Spectrum rows carry the training curves' values at that epoch when recorded;
    zero_tol: also recompute the negative mass fraction from the Ritz measure
    with |lambda| > zero_tol * ||H||_2 (column negative_mass_recomputed)."""
    has_spec, has_train = res.has("spectrum"), res.has("training")
    if not has_spec and not has_train:
        raise common.ResultsError(f"{res.path} has neither a /training nor a /spectrum group")
    curves = res.curves() if has_train else None
    at = {}
    if curves is not None and "epoch" in curves:
        for i, e in enumerate(curves["epoch"]):
            at[int(e)] = {k: float(curves[k][i]) for k in CURVE_COLUMNS if k in curves}
    rows = []
    epochs = res.spectrum_epochs() if has_spec else []
    for e in epochs:
        a, st, ex = res.spectrum_attrs(e), res.statistics(e), res.extremes(e)
        row = {"epoch": e, "risk": _num(a.get("risk"))}
        row["lambda_min"] = float(ex["lambda_min"][0]) if len(ex.get("lambda_min", [])) else None
        row["lambda_max"] = float(ex["lambda_max"][0]) if len(ex.get("lambda_max", [])) else None
        for k, *_ in SPECTRUM_COLUMNS[4:]:
            row[k] = _num(st.get(k))
        if zero_tol is not None:
            row["negative_mass_recomputed"] = None
            if "density" in res.spectrum_group(e) and st.get("norm2"):
                x, w = res.density(e).ritz_measure()
                row["negative_mass_recomputed"] = common.negative_mass(x, w, zero_tol * float(st["norm2"]))
        row.update(at.get(e, {}))
        rows.append(row)
    final = None
    if at:
        last = max(at)
        final = dict(at[last], epoch=last)
        if last not in epochs:
            rows.append(dict(final))
    att = res.attrs
    meta = {k: att.get(k) for k in ("net_spec", "net_parameters", "net_loss", "net_init", "data_format",
                                    "train_samples", "val_samples", "mpi_ranks", "nncas_version", "git_hash")}
    meta["hessian_samples"] = res.spectrum_attrs(epochs[0]).get("hessian_samples") if epochs else None
    return {"label": res.label, "path": res.path, "meta": meta, "rows": rows, "final": final,
            "zero_tol": zero_tol}


def _fmt(v, f):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    return f.format(v)


def format_text(summaries):
    out = []
    for s in summaries:
        m = s["meta"]
        out.append(f"run {s['label']}: {s['path']}")
        net = f"{m['net_spec']} ({m['net_parameters']:,} parameters" if m["net_parameters"] else f"{m['net_spec']} ("
        out.append(f"  network {net}, {m['net_loss']} loss, init {m['net_init']}); data {m['data_format']}, "
                   f"{m['train_samples']} training / {m['val_samples']} validation samples; "
                   f"{m['mpi_ranks']} ranks; nncas {m['nncas_version']} {m['git_hash']}")
        cols = list(SPECTRUM_COLUMNS)
        if s["zero_tol"] is not None:
            cols.insert(6, ("negative_mass_recomputed", f"neg({s['zero_tol']:g})", 9, "{:.4f}"))
        spec = [r for r in s["rows"] if "lambda_max" in r]
        if spec:
            out.append(f"  spectra of the Hessian of the risk on {m['hessian_samples']} training samples:")
            out.append("  " + " ".join(h.rjust(w) for _, h, w, _ in cols))
            for r in spec:
                out.append("  " + " ".join(_fmt(r.get(k), f).rjust(w) for k, _, w, f in cols))
        else:
            out.append("  no spectra (no /spectrum group: run nncas with -spectrum_every K)")
        f = s["final"]
        if f:
            out.append(f"  final (epoch {f['epoch']}): training loss {_fmt(f.get('train_loss'), '{:.5f}')} "
                       f"accuracy {_fmt(100 * f['train_acc'] if 'train_acc' in f else None, '{:.2f}')}%, "
                       f"validation loss {_fmt(f.get('val_loss'), '{:.5f}')} "
                       f"accuracy {_fmt(100 * f['val_acc'] if 'val_acc' in f else None, '{:.2f}')}%")
        else:
            out.append("  no finished epoch (no /training group)")
        out.append("")
    return "\n".join(out)


def csv_columns(summaries):
    cols = ["label", "file"] + [k for k, *_ in SPECTRUM_COLUMNS]
    if any(s["zero_tol"] is not None for s in summaries):
        cols.append("negative_mass_recomputed")
    return cols + CURVE_COLUMNS


def format_csv(summaries):
    """One row per (run, epoch with a spectrum), and a row for the final epoch
    when it has none; empty cells where a value was not recorded."""
    buf = io.StringIO()
    cols = csv_columns(summaries)
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for s in summaries:
        for r in s["rows"]:
            d = {k: ("" if r.get(k) is None else repr(r[k]) if isinstance(r[k], float) else r[k]) for k in cols[2:]}
            w.writerow(dict(d, label=s["label"], file=s["path"]))
    return buf.getvalue()


def main(argv=None):
    p = common.make_parser("summary.py", __doc__.split("\n\n")[0], READS)
    common.add_common_arguments(p, default_out=None, out_help="also write DIR/summary.txt and DIR/summary.csv")
    p.add_argument("--csv", action="store_true", help="print CSV instead of the text table")
    p.add_argument("--zero-tol", type=float, metavar="T",
                   help="add the negative mass fraction recomputed from the Ritz measure with "
                        "|lambda| > T ||H||_2 counted as non-zero (nncas uses -spectrum_zero_tol, 1e-3)")

    def body(argv):
        a = p.parse_args(argv)
        results = common.load_all(a.results, a.labels)
        try:
            summaries = [summarize(r, a.zero_tol) for r in results]
        finally:
            for r in results:
                r.close()
        text, table = format_text(summaries), format_csv(summaries)
        sys.stdout.write(table if a.csv else text)
        paths = []
        if a.out:
            os.makedirs(a.out, exist_ok=True)
            for name, content in (("summary.txt", text), ("summary.csv", table)):
                q = os.path.join(a.out, name)
                with open(q, "w") as fh:
                    fh.write(content)
                paths.append(q)
        return summaries, paths

    return common.cli_main("summary.py", body, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
