#!/usr/bin/python3
"""A self-contained copy of an nncas results.h5: every group it links to
(results/<group>.h5) copied into the one file, as results files were written
before 2026-12-07. Tests edit such copies without touching the run's files.

    h5flat.py OUTPUT_DIR/results.h5 COPY.h5
"""
import sys

import h5py


def copy(obj, out, name):
    """obj (a group or dataset) as out/name, values and attributes (h5py's
    Group.copy, HDF5's H5Ocopy, crashes on nncas's files with Debian's h5py)."""
    if isinstance(obj, h5py.Dataset):
        new = out.create_dataset(name, data=obj[()])
    else:
        new = out.create_group(name)
        for child in obj:
            copy(obj[child], new, child)
    for k, v in obj.attrs.items():
        new.attrs[k] = v


def flatten(src, dst):
    with h5py.File(src, "r") as s, h5py.File(dst, "w") as d:
        for k, v in s.attrs.items():
            d.attrs[k] = v
        for name in s:
            copy(s[name], d, name)  # through the links
    return dst


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    flatten(sys.argv[1], sys.argv[2])
