"""nncas_post: the figures and tables of nncas's results files.

This directory is both the package nncas_post (pyproject.toml at the
repository's root, `pip install .`; or the tree `cmake --install` writes,
on PYTHONPATH) and a folder of scripts run as `python3 postprocess/X.py`,
as jobs/ and the tests do. Each script imports its neighbours relative to the
package when it is imported as nncas_post.X, and by name when run as a
script. Nothing is imported here: `import nncas_post` needs no numpy, h5py or
matplotlib, and each submodule imports what it uses.
"""
