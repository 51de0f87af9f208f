"""The console scripts of pyproject.toml (nncas-fig1b-spectra, ...): each
runs one script's main() on sys.argv. A figure script's main returns the paths
it wrote (and exits with status 1 itself on an error), so a returned list is
status 0; an integer is the status."""
import importlib


def _run(module):
    status = importlib.import_module("." + module, __package__).main()
    return status if isinstance(status, int) else 0


def fig1b_spectra(): return _run("fig1b_spectra")
def fig1c_curves(): return _run("fig1c_curves")
def fig1de_cc_heatmaps(): return _run("fig1de_cc_heatmaps")
def fig1f_coupling(): return _run("fig1f_coupling")
def fig3_initscale(): return _run("fig3_initscale")
def fig5_null(): return _run("fig5_null")
def quickstart_figures(): return _run("quickstart_figures")
def summary(): return _run("summary")
def table2(): return _run("table2")
def nscaling(): return _run("nscaling")
