"""One style for every figure, colours, and saving PNG and PDF."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")  # the scripts only write files
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.4,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,
}
PANEL_SIZE = (4.6, 3.4)  # inches per panel


def style():
    """A context manager applying the figures' style: `with style(): ...`."""
    return plt.rc_context(STYLE)


def epoch_colors(n, cmap="viridis"):
    """n colours running from early (dark blue) to late (yellow-green) epochs."""
    cm = plt.get_cmap(cmap)
    return [cm(0.05 + 0.85 * i / max(n - 1, 1)) for i in range(n)]


def run_colors(n):
    return [plt.get_cmap("tab10")(i % 10) for i in range(n)]


def save_figure(fig, outdir, stem, formats=("png", "pdf")):
    """Write fig as OUTDIR/STEM.png and .pdf; returns the paths."""
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for ext in formats:
        p = os.path.join(outdir, f"{stem}.{ext}")
        fig.savefig(p, bbox_inches="tight")
        paths.append(p)
    return paths
