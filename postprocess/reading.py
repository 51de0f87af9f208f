"""Reading nncas results files (docs/files.md, docs/spectrum.md) into plain
numpy arrays.

    res = open_results("runs/quickstart/results.h5")   # Results, raises ResultsError
    res.spectrum_epochs()                               # [0, 5, 10]
    res.curves()                                        # {"epoch": ..., "train_loss": ..., ...}
    res.density(5)                                      # Density (grid, density, Ritz measure, ...)
    res.density(5, width=10)                            # re-smoothed from the Ritz values
    res.statistics(5), res.extremes(5)                  # attribute dicts / arrays

    res.steps()                                         # per-step records and the /training attributes
    res.coupling_epochs(), res.coupling(0, "cc")        # Algorithm 1 counts, exponents, attributes
    res.cc_submatrix(0)                                 # (matrix, variables) of Fig. 1d/e
    res.coupling_null("cc")                             # Algorithm 3's null counts and histogram
    res.initscale(), res.initscale_density(0)           # the init-scaling study, spectra per c

Every reader raises ResultsError with one clear sentence when the file or the
group it needs is missing (cli.cli_main turns that into `PROG: error: ...`).
A reader for a new group calls `self.require("GROUP", "how to produce it")`.
"""
import os

import h5py
import numpy as np

SPECTRUM_HINT = "run nncas with -spectrum_every K to record spectra"
TRAINING_HINT = "nncas writes it after the first finished epoch"
STEPS_HINT = "run nncas with -train_record_steps to record every step"
COUPLING_HINT = "run nncas with -coupling_every K to record coupling statistics"
NULL_HINT = "nncas writes it with -coupling_every K unless -coupling_calibrate false"
INITSCALE_HINT = "run nncas with -initscale to record the initialisation-scaling study"
STATS = ("cc", "skewness", "kurtosis")  # the coupling statistics, in nncas's order
STAT_NAMES = {"cc": "correlation coefficients", "skewness": "skewness", "kurtosis": "excess kurtosis"}


class ResultsError(Exception):
    """A results file is missing, is not an nncas results file, or lacks a group."""


# ---------------------------------------------------------------- reading


def decode_attr(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray) and v.shape == (1,):
        return v[0]
    return v


class Density:
    """One epoch's Lanczos spectral density (docs/spectrum.md, density/).

    grid, density, density_std: K points (eigenvalue units, 1/eigenvalue);
    ritz, weights: (n_vec, M) with only the first steps[v] entries of row v
    valid; lo, hi: the grid's ends; sigma: the Gaussian kernel width in
    eigenvalue units; width: Papyan's kernel parameter that gives it (None
    when set directly)."""

    def __init__(self, epoch, grid, density, density_std, ritz, weights, steps, lo, hi, sigma, width):
        self.epoch, self.grid, self.density, self.density_std = epoch, grid, density, density_std
        self.ritz, self.weights, self.steps = ritz, weights, steps
        self.lo, self.hi, self.sigma, self.width = lo, hi, sigma, width

    def evaluate(self, x):
        """The smoothed density (mean, std over starting vectors) at points x,
        same kernel: the stored curve is evaluate(grid)."""
        return smooth_ritz(self.ritz, self.weights, self.steps, np.asarray(x, dtype=float), self.sigma)

    def ritz_measure(self):
        """The Ritz values and weights of all starting vectors pooled (weights sum to 1)."""
        x = np.concatenate([self.ritz[v, : self.steps[v]] for v in range(len(self.steps))])
        w = np.concatenate([self.weights[v, : self.steps[v]] for v in range(len(self.steps))]) / len(self.steps)
        return x, w


def sigma_from_width(width, M):
    """Papyan's kernel parameter -> Gaussian width in the normalized variable t in [-1, 1]."""
    return 2.0 / (M - 1) / np.sqrt(8 * np.log(width))


def smooth_ritz(ritz, weights, steps, grid, sigma):
    """nncas's smoothing (src/spectrum/spectrum.c): the mean over starting
    vectors of sum_i w_vi N(x; x_vi, sigma), sigma in eigenvalue units.
    Returns (density, density_std) on grid."""
    rho = np.empty((len(steps), len(grid)))
    for v, m in enumerate(steps):
        z = (grid[:, None] - ritz[v, :m][None, :]) / sigma
        rho[v] = np.exp(-0.5 * z * z) @ weights[v, :m] / (np.sqrt(2 * np.pi) * sigma)
    std = rho.std(axis=0, ddof=1) if len(steps) > 1 else np.zeros(len(grid))
    return rho.mean(axis=0), std


class Results:
    """An open nncas results file (read-only). Use as a context manager or call close()."""

    def __init__(self, path, label=None):
        self.path = path
        if not os.path.exists(path):
            raise ResultsError(f"{path}: no such file")
        if os.path.isdir(path):
            cand = os.path.join(path, "results.h5")
            if not os.path.exists(cand):
                raise ResultsError(f"{path} is a directory without results.h5")
            self.path = path = cand
        try:
            self.f = h5py.File(path, "r")
        except OSError as e:
            raise ResultsError(f"{path}: not readable as HDF5 ({e})") from None
        kind = decode_attr(self.f.attrs.get("kind", b""))
        if kind != "nncas results":
            self.f.close()
            what = f"kind '{kind}'" if kind else "no 'kind' attribute"
            raise ResultsError(f"{path}: {what}, not an nncas results file (OUTPUT_DIR/results.h5)")
        missing = self._missing_parts()
        if missing:
            self.f.close()
            raise ResultsError(f"{path} links to {missing[0]}, which is missing ({len(missing)} file(s) missing): "
                               "results.h5 is the index of the files in results/ beside it; copy them together")
        self.attrs = {k: decode_attr(v) for k, v in self.f.attrs.items()}
        self.label = label or default_label(path)
        self.label_given = bool(label)  # named by the caller (--labels), not by its directory

    def _missing_parts(self):
        """The files that the index's external links name and that are not
        there (a results.h5 written before 2026-12-07 has no links)."""
        here, missing = os.path.dirname(os.path.abspath(self.path)), []
        groups = [self.f] + [g for g in self.f.values() if isinstance(g, h5py.Group)]
        for g in groups:
            for name in g:
                link = g.get(name, getlink=True)
                if isinstance(link, h5py.ExternalLink) and not os.path.exists(os.path.join(here, link.filename)):
                    missing.append(os.path.join(here, link.filename))
        return missing

    def close(self):
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def option(self, name):
        """The value of nncas option -name in the run's options database (the root
        attribute options), "" for a flag without value, None when not given."""
        words = str(self.attrs.get("options", "")).split()
        key = "-" + name.lstrip("-")
        def is_value(w):
            try:
                float(w)
                return True
            except ValueError:
                return not w.startswith("-")

        for i, w in enumerate(words):
            if w == key:
                return words[i + 1] if i + 1 < len(words) and is_value(words[i + 1]) else ""
        return None

    def has(self, group):
        return group in self.f

    def require(self, group, hint):
        if group not in self.f:
            raise ResultsError(f"{self.path} has no /{group} group ({hint})")
        return self.f[group]

    # /training
    def curves(self):
        """The per-epoch training curves, {name: array}; 'epoch' is 1-based."""
        g = self.require("training", TRAINING_HINT)
        return {k: np.asarray(v[()], dtype=float) for k, v in g.items() if isinstance(v, h5py.Dataset)}

    def training_attrs(self):
        """step_rule, diverged (0/1), diverged_what (when it diverged), ..."""
        g = self.require("training", TRAINING_HINT)
        return {k: decode_attr(v) for k, v in g.attrs.items() if k != "description"}

    # /training/steps
    def steps(self):
        """The per-step records {step, epoch, loss, acc, step_size, grad_norm} (arrays,
        step 0-based) and the /training attributes under "attrs"."""
        self.require("training", TRAINING_HINT)
        g = self.require("training/steps", STEPS_HINT)
        out = {k: np.asarray(v[()], dtype=float) for k, v in g.items() if isinstance(v, h5py.Dataset)}
        missing = [k for k in ("step", "loss", "step_size", "grad_norm") if k not in out]
        if missing:
            raise ResultsError(f"{self.path}: /training/steps lacks {', '.join(missing)}")
        out["attrs"] = self.training_attrs()
        return out

    # /coupling/epoch_EEEE and /coupling/null
    def coupling_epochs(self):
        g = self.require("coupling", COUPLING_HINT)
        return sorted(int(k[len("epoch_"):]) for k in g.keys() if k.startswith("epoch_"))

    def coupling_group(self, epoch, sub=None):
        name = f"coupling/epoch_{epoch:04d}" + (f"/{sub}" if sub else "")
        self.require("coupling", COUPLING_HINT)
        if name not in self.f:
            raise ResultsError(f"{self.path} has no /{name} (epochs with coupling statistics: {self.coupling_epochs()})")
        return self.f[name]

    def coupling(self, epoch, stat):
        """One statistic ("cc", "skewness", "kurtosis") at one epoch: its datasets
        (counts, per_entry, exponent, total, constant_variables, ...; arrays over
        the draws) and attributes (N_b, threshold, per_entry_mean, ...), and the
        epoch group's attributes under "group" (epoch, n, batch, draws, N)."""
        g = self.coupling_group(epoch, stat)
        out = {k: np.asarray(v[()]) for k, v in g.items() if isinstance(v, h5py.Dataset)}
        out.update({k: decode_attr(v) for k, v in g.attrs.items() if k != "description"})
        for k in ("counts", "per_entry", "total", "N_b"):
            if k not in out:
                raise ResultsError(f"{self.path}: /coupling/epoch_{epoch:04d}/{stat} lacks {k}")
        out["group"] = {k: decode_attr(v) for k, v in self.coupling_group(epoch).attrs.items()}
        return out

    def cc_submatrix(self, epoch):
        """(submatrix, variables): the stored correlation coefficients among a
        uniformly sampled set of the first draw's variables (0 for a constant one)."""
        g = self.coupling_group(epoch, "cc")
        if "submatrix" not in g:
            raise ResultsError(f"{self.path}: /coupling/epoch_{epoch:04d}/cc has no submatrix (-coupling_submatrix 0)")
        var = np.asarray(g["submatrix_variables"][()]) if "submatrix_variables" in g else None
        return np.asarray(g["submatrix"][()], dtype=float), var

    def coupling_null(self, stat):
        """Algorithm 3 for one statistic: counts (per null draw), histogram,
        edges (nbins + 1 over [lo, hi]; the end bins also hold the values beyond),
        and the attributes threshold, count_mean, count_standard_error, target, N_b, n."""
        self.require("coupling", COUPLING_HINT)
        g = self.require("coupling/null", NULL_HINT)
        if stat not in g:
            raise ResultsError(f"{self.path} has no /coupling/null/{stat}")
        g = g[stat]
        out = {k: decode_attr(v) for k, v in g.attrs.items() if k != "description"}
        out["counts"] = np.asarray(g["counts"][()], dtype=float)
        if "histogram" in g:
            h = g["histogram"]
            out["histogram"] = np.asarray(h[()], dtype=float)
            out["edges"] = np.linspace(float(h.attrs["lo"]), float(h.attrs["hi"]), len(out["histogram"]) + 1)
        return out

    # /initscale
    def initscale(self):
        """The init-scaling study: c, grad_norm_sq (nc x inits), grad_norm_sq_mean,
        grad_norm_sq_std, lambda_max, lambda_min, ... and the attributes
        grad_norm_sq_exponent, weight_layers, inits."""
        g = self.require("initscale", INITSCALE_HINT)
        out = {k: np.asarray(v[()], dtype=float) for k, v in g.items() if isinstance(v, h5py.Dataset)}
        for k in ("c", "grad_norm_sq"):
            if k not in out:
                raise ResultsError(f"{self.path}: /initscale lacks {k}")
        out.update({k: decode_attr(v) for k, v in g.attrs.items() if k != "description"})
        return out

    def initscale_spectra(self):
        """[(i, c)] of the spectra at initialisation (/initscale/c_II); [] without -initscale_spectra."""
        g = self.require("initscale", INITSCALE_HINT)
        out = []
        for k in sorted(g.keys()):
            if k.startswith("c_") and isinstance(g[k], h5py.Group) and "density" in g[k]:
                out.append((int(k[2:]), float(g[k].attrs["c"])))
        return out

    def initscale_density(self, i, width=None, sigma=None):
        """The density of /initscale/c_II (as density(); Density.epoch holds i)."""
        g = self.require("initscale", INITSCALE_HINT)
        name = f"c_{i:02d}"
        if name not in g or "density" not in g[name]:
            raise ResultsError(f"{self.path} has no /initscale/{name}/density (spectra: {self.initscale_spectra()})")
        return self._density(g[name]["density"], i, width, sigma)

    def initscale_statistics(self, i):
        g = self.require("initscale", INITSCALE_HINT)
        name = f"c_{i:02d}/statistics"
        return {k: decode_attr(v) for k, v in g[name].attrs.items() if k != "description"} if name in g else {}

    # /spectrum/epoch_EEEE
    def spectrum_epochs(self):
        g = self.require("spectrum", SPECTRUM_HINT)
        return sorted(int(k[len("epoch_"):]) for k in g.keys() if k.startswith("epoch_"))

    def spectrum_group(self, epoch, sub=None):
        name = f"spectrum/epoch_{epoch:04d}" + (f"/{sub}" if sub else "")
        self.require("spectrum", SPECTRUM_HINT)
        if name not in self.f:
            raise ResultsError(f"{self.path} has no /{name} (epochs with spectra: {self.spectrum_epochs()})")
        return self.f[name]

    def spectrum_attrs(self, epoch):
        """epoch, risk, hessian_samples, ..."""
        return {k: decode_attr(v) for k, v in self.spectrum_group(epoch).attrs.items()}

    def statistics(self, epoch):
        """The Theorem 1 statistics (attributes of statistics/); {} when absent."""
        g = self.spectrum_group(epoch)
        if "statistics" not in g:
            return {}
        return {k: decode_attr(v) for k, v in g["statistics"].attrs.items() if k != "description"}

    def extremes(self, epoch):
        """{'lambda_max': array, 'lambda_min': array, ...}; {} when not computed."""
        g = self.spectrum_group(epoch)
        if "extremes" not in g:
            return {}
        return {k: np.asarray(v[()]) for k, v in g["extremes"].items()}

    def density(self, epoch, width=None, sigma=None):
        """The stored density, or re-smoothed from the Ritz measure with Papyan's
        kernel parameter `width` or a Gaussian width `sigma` in eigenvalue units."""
        return self._density(self.spectrum_group(epoch, "density"), epoch, width, sigma)

    @staticmethod
    def _density(g, epoch, width=None, sigma=None):
        a = g.attrs
        ritz, weights = np.asarray(g["ritz_values"][()]), np.asarray(g["ritz_weights"][()])
        steps = np.asarray(g["steps"][()], dtype=int)
        lo, hi = float(a["lo"]), float(a["hi"])
        d = 0.5 * (hi - lo)
        grid = np.asarray(g["grid"][()])
        rho, std = np.asarray(g["density"][()]), np.asarray(g["density_std"][()])
        w = float(a["kernel_width_parameter"]) if "kernel_width_parameter" in a else None
        s = float(a["sigma_normalized"]) * d
        if width is not None or sigma is not None:
            if sigma is None:
                s, w = sigma_from_width(width, int(a["M"])) * d, width
            else:
                s, w = sigma, None
            rho, std = smooth_ritz(ritz, weights, steps, grid, s)
        return Density(epoch, grid, rho, std, ritz, weights, steps, lo, hi, s, w)


def open_results(path, label=None):
    return Results(path, label)


def has_batch_norm(res):
    """True when the run's network (root attribute net_spec, a layer string)
    has a bn layer; a model file's (onnx:...) is not looked into."""
    spec = str(res.attrs.get("net_spec", ""))
    return not spec.startswith("onnx:") and "bn" in spec.replace(" ", ",").split(",")


def default_label(path):
    """A run's name: its output directory's name (runs/lenet/results.h5 -> lenet)."""
    d = os.path.basename(os.path.dirname(os.path.abspath(path)))
    return d or os.path.basename(path)


def negative_mass(x, w, tol):
    """Weight of Ritz values below -tol over the weight of those with |x| > tol."""
    nz = w[np.abs(x) > tol].sum()
    return w[x < -tol].sum() / nz if nz > 0 else float("nan")
