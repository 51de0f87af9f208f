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
import sys

import numpy as np

if __package__:  # imported as nncas_post.summary (pyproject.toml, the installed tree)
    from . import cli
    from . import reading
else:  # run as python3 postprocess/summary.py, or postprocess/ on sys.path
    import cli
    import reading

READS = ("/spectrum/epoch_EEEE (attribute risk; extremes/lambda_min, lambda_max; the attributes of "
         "statistics/; density/ritz_values, ritz_weights, steps with --zero-tol) and /training "
         "(epoch, train_loss, train_acc, val_loss, val_acc); when present /coupling/epoch_EEEE/"
         "{cc,skewness,kurtosis} (counts, total, constant_variables; attributes N_b, threshold, per_entry_mean, "
         "per_entry_standard_error, exponent_mean, exponent_standard_error), the attributes of "
         "/coupling/null/{cc,skewness,kurtosis}, and /initscale (c, grad_norm_sq_mean, grad_norm_sq_std, "
         "lambda_min, lambda_max, lambda_*_exponent; attributes grad_norm_sq_exponent, weight_layers, inits). "
         "A file needs at least one of /training, /spectrum, /coupling, /initscale.")

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
# per coupling statistic (prefix cc_, skewness_, kurtosis_): CSV columns of its epoch row
COUPLING_FIELDS = ["per_entry", "per_entry_se", "exponent", "exponent_se", "ratio"]


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
    has_coup, has_init = res.has("coupling"), res.has("initscale")
    if not (has_spec or has_train or has_coup or has_init):
        raise reading.ResultsError(f"{res.path} has none of the groups /training, /spectrum, /coupling, /initscale")
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
                row["negative_mass_recomputed"] = reading.negative_mass(x, w, zero_tol * float(st["norm2"]))
        row.update(at.get(e, {}))
        rows.append(row)
    coupling = coupling_rows(res) if has_coup else []
    by_epoch = {r["epoch"]: r for r in rows}
    for c in coupling:
        e = c["epoch"]
        if e not in by_epoch:
            by_epoch[e] = dict({"epoch": e}, **at.get(e, {}))
            rows.append(by_epoch[e])
        by_epoch[e].update({f"{st}_{k}": c[st][k] for st in reading.STATS if st in c for k in COUPLING_FIELDS})
    final = None
    if at:
        last = max(at)
        final = dict(at[last], epoch=last)
        if last not in by_epoch:
            rows.append(dict(final))
    rows.sort(key=lambda r: r["epoch"])
    att = res.attrs
    meta = {k: att.get(k) for k in ("net_spec", "net_parameters", "net_loss", "net_init", "data_format",
                                    "train_samples", "val_samples", "mpi_ranks", "nncas_version", "git_hash")}
    meta["hessian_samples"] = res.spectrum_attrs(epochs[0]).get("hessian_samples") if epochs else None
    meta["has_training"] = has_train
    tr = res.training_attrs() if has_train else {}
    meta["step_rule"] = tr.get("step_rule")
    meta["diverged_what"] = tr.get("diverged_what") if int(tr.get("diverged", 0) or 0) else None
    meta["steps_recorded"] = len(res.f["training/steps/step"]) if res.has("training/steps/step") else None
    return {"label": res.label, "path": res.path, "meta": meta, "rows": rows, "final": final,
            "zero_tol": zero_tol, "coupling": coupling, "null": null_summary(res) if has_coup else None,
            "initscale": initscale_summary(res) if has_init else None}


def coupling_rows(res):
    """[{epoch, n, batch, draws, N, cc: {...}, skewness: {...}, kurtosis: {...}}] of
    the epochs with coupling statistics; per statistic N_b, threshold, per_entry
    (mean count per entry), per_entry_se, exponent (of N_b), exponent_se, ratio
    (sum of counts / sum of totals over the draws), constant (mean constant
    variables per draw)."""
    out = []
    for e in res.coupling_epochs():
        row = None
        for st in reading.STATS:
            if st not in res.coupling_group(e):
                continue
            d = res.coupling(e, st)
            if row is None:
                row = {"epoch": e}
                row.update({k: d["group"].get(k) for k in ("n", "batch", "draws", "N")})
            tot = float(np.sum(d["total"]))
            row[st] = {"N_b": int(d["N_b"]), "threshold": _num(d.get("threshold")),
                       "per_entry": _num(d.get("per_entry_mean")), "per_entry_se": _num(d.get("per_entry_standard_error")),
                       "exponent": _num(d.get("exponent_mean")), "exponent_se": _num(d.get("exponent_standard_error")),
                       "ratio": float(np.sum(d["counts"])) / tot if tot > 0 else None,
                       "constant": float(np.mean(d["constant_variables"])) if "constant_variables" in d else None}
        if row is not None:
            out.append(row)
    return out


def null_summary(res):
    """{stat: {threshold, count_mean, count_standard_error, target, N_b, n, draws}} of /coupling/null, or None."""
    if not res.has("coupling/null"):
        return None
    out = {}
    for st in reading.STATS:
        if st in res.f["coupling/null"]:
            d = res.coupling_null(st)
            out[st] = {k: _num(d.get(k)) for k in ("threshold", "count_mean", "count_standard_error", "target", "N_b", "n")}
            out[st]["draws"] = len(d["counts"])
    return out


def initscale_summary(res):
    d = res.initscale()
    keys = ("c", "grad_norm_sq_mean", "grad_norm_sq_std", "lambda_min", "lambda_max",
            "lambda_max_exponent", "lambda_min_exponent")
    out = {k: d[k] for k in keys if k in d}
    for k in ("grad_norm_sq_exponent", "weight_layers", "inits"):
        out[k] = d.get(k)
    return out


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
        out += format_coupling(s)
        out += format_initscale(s)
        f = s["final"]
        if f:
            out.append(f"  final (epoch {f['epoch']}): training loss {_fmt(f.get('train_loss'), '{:.5f}')} "
                       f"accuracy {_fmt(100 * f['train_acc'] if 'train_acc' in f else None, '{:.2f}')}%, "
                       f"validation loss {_fmt(f.get('val_loss'), '{:.5f}')} "
                       f"accuracy {_fmt(100 * f['val_acc'] if 'val_acc' in f else None, '{:.2f}')}%")
        else:
            out.append("  no finished epoch" + ("" if m.get("has_training") else " (no /training group)"))
        if m.get("steps_recorded") is not None:
            out.append(f"  per-step records: {m['steps_recorded']} steps, step rule {m.get('step_rule')}")
        if m.get("diverged_what"):
            out.append(f"  {m['diverged_what']}")
        out.append("")
    return "\n".join(out)


def format_coupling(s):
    lines = []
    rows = s.get("coupling") or []
    if rows:
        r0 = rows[0]
        lines.append(f"  coupling statistics of Hessian entries (Algorithm 1: {r0['draws']} draws, n = {r0['n']} batches "
                     f"of {r0['batch']}; count per entry s_0/N_b^2 +- s.e., its exponent of N_b, count/total):")
        cols = [("epoch", 5), ("statistic", 9), ("N_b", 4), ("thr", 4), ("per entry", 10), ("+- s.e.", 9),
                ("exponent", 8), ("+- s.e.", 7), ("count/total", 11), ("constant", 8)]
        lines.append("  " + " ".join(h.rjust(w) for h, w in cols))
        for r in rows:
            for st in reading.STATS:
                if st not in r:
                    continue
                c = r[st]
                vals = [str(r["epoch"]), st, str(c["N_b"]), _fmt(c["threshold"], "{:g}"), _fmt(c["per_entry"], "{:.4e}"),
                        _fmt(c["per_entry_se"], "{:.2e}"), _fmt(c["exponent"], "{:+.3f}"), _fmt(c["exponent_se"], "{:.3f}"),
                        _fmt(c["ratio"], "{:.4f}"), _fmt(c["constant"], "{:.1f}")]
                lines.append("  " + " ".join(v.rjust(w) for v, (_, w) in zip(vals, cols)))
    nl = s.get("null")
    if nl:
        parts = [f"{st} {_fmt(d['count_mean'], '{:.2f}')} +- {_fmt(d['count_standard_error'], '{:.2f}')} SE above "
                 f"{_fmt(d['threshold'], '{:g}')} (target/100 {_fmt(d['target'] / 100 if d['target'] else None, '{:.3g}')})"
                 for st, d in nl.items()]
        lines.append(f"  null counts (Algorithm 3, {next(iter(nl.values()))['draws']} draws; table2.py): " + "; ".join(parts))
    return lines


def format_initscale(s):
    d = s.get("initscale")
    if not d:
        return []
    L = d.get("weight_layers")
    lines = [f"  init scaling (Sec. 5.2; {L} weight layers, {d.get('inits')} initialisations per c): "
             f"E||grad R||^2 grows like c^{_fmt(_num(d.get('grad_norm_sq_exponent')), '{:.3f}')}"
             + (f" (reference slopes L-1 = {int(L) - 1}, L = {int(L)})" if L is not None else "")]
    cols = [("c", 7), ("E||g||^2", 11), ("std", 10), ("lambda_min", 11), ("lambda_max", 11)]
    lines.append("  " + " ".join(h.rjust(w) for h, w in cols))
    for i, c in enumerate(d["c"]):
        vals = [f"{c:g}", f"{d['grad_norm_sq_mean'][i]:.4e}" if "grad_norm_sq_mean" in d else "-",
                f"{d['grad_norm_sq_std'][i]:.2e}" if "grad_norm_sq_std" in d else "-",
                f"{d['lambda_min'][i]:.4e}" if "lambda_min" in d else "-",
                f"{d['lambda_max'][i]:.4e}" if "lambda_max" in d else "-"]
        lines.append("  " + " ".join(v.rjust(w) for v, (_, w) in zip(vals, cols)))
    if "lambda_max_exponent" in d and len(d["lambda_max_exponent"]):
        lines.append("  exponents of c between consecutive c: lambda_max "
                     + " ".join(f"{v:.3f}" for v in d["lambda_max_exponent"]) + ", lambda_min "
                     + " ".join(f"{v:.3f}" for v in d.get("lambda_min_exponent", []))
                     + (f" (Cor. F.1: (L-2)/2 = {(int(L) - 2) / 2:g})" if L is not None else ""))
    return lines


def csv_columns(summaries):
    cols = ["label", "file"] + [k for k, *_ in SPECTRUM_COLUMNS]
    if any(s["zero_tol"] is not None for s in summaries):
        cols.append("negative_mass_recomputed")
    cols += CURVE_COLUMNS
    if any(s.get("coupling") for s in summaries):
        cols += [f"{st}_{k}" for st in reading.STATS for k in COUPLING_FIELDS]
    return cols


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
    p = cli.make_parser("summary.py", __doc__.split("\n\n")[0], READS)
    cli.add_common_arguments(p, default_out=None, out_help="also write DIR/summary.txt and DIR/summary.csv")
    p.add_argument("--csv", action="store_true", help="print CSV instead of the text table")
    p.add_argument("--zero-tol", type=float, metavar="T",
                   help="add the negative mass fraction recomputed from the Ritz measure with "
                        "|lambda| > T ||H||_2 counted as non-zero (nncas uses -spectrum_zero_tol, 1e-3)")

    def body(argv):
        a = p.parse_args(argv)
        results = cli.load_all(a.results, a.labels)
        try:
            summaries = [summarize(r, a.zero_tol) for r in results]
        finally:
            for r in results:
                r.close()
        text, table = format_text(summaries), format_csv(summaries)
        paths = cli.write_table(text, table, a.csv, a.out, "summary")
        return summaries, paths

    return cli.cli_main("summary.py", body, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
