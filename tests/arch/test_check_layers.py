"""check_layers.py itself: it passes a clean tree and catches each kind of
violation (an upward include, an upward call, a loop between files, a file or
function too long), on small trees compiled here with gcc."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, "check_layers.py")


def make_tree(tmp, files):
    """files: {relative path: text}; .c files under src/ are compiled into
    BUILD/CMakeFiles/nncas_core.dir/<path>.o as CMake would."""
    src, build = tmp / "src_tree", tmp / "build"
    for rel, text in files.items():
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        if rel.startswith("src/") and rel.endswith(".c"):
            obj = build / "CMakeFiles" / "nncas_core.dir" / (rel + ".o")
            obj.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["gcc", "-c", "-I", str(src / "include"), str(p), "-o", str(obj)], check=True)
    return str(src), str(build)


def run(src, build):
    r = subprocess.run([sys.executable, CHECK, src, build], capture_output=True, text=True)
    return r.returncode, r.stdout


BASE = {
    "include/nncas/core.h": "int core_f(void);\n",
    "include/nncas/net.h": '#include "nncas/core.h"\nint net_f(void);\n',
    "src/core/core.c": '#include "nncas/core.h"\nint core_f(void) { return 1; }\n',
    "src/net/net.c": '#include "nncas/net.h"\nint net_f(void) { return core_f(); }\n',
}


def test_a_layered_tree_passes(tmp_path):
    code, out = run(*make_tree(tmp_path, BASE))
    assert code == 0, out


def test_an_upward_include_fails(tmp_path):
    files = dict(BASE)
    files["include/nncas/core.h"] = '#include "nncas/net.h"\nint core_f(void);\n'
    files["include/nncas/net.h"] = "int net_f(void);\n"
    code, out = run(*make_tree(tmp_path, files))
    assert code == 1 and "core includes nncas/net.h of net" in out, out


def test_an_upward_call_fails(tmp_path):
    files = dict(BASE)
    files["src/core/core.c"] = 'int net_f(void);\nint core_f(void) { return net_f(); }\n'
    code, out = run(*make_tree(tmp_path, files))
    assert code == 1 and "core uses net_f" in out, out


def test_a_loop_between_files_of_one_module_fails(tmp_path):
    files = dict(BASE)
    files["src/net/a.c"] = "int b_f(void);\nint a_f(void) { return b_f(); }\n"
    files["src/net/b.c"] = "int a_f(void);\nint b_f(void) { return a_f(); }\n"
    code, out = run(*make_tree(tmp_path, files))
    assert code == 1 and "a loop between files" in out, out


@pytest.mark.parametrize("what", ["file", "function"])
def test_a_file_or_function_too_long_fails(tmp_path, what):
    files = dict(BASE)
    if what == "file":
        files["src/net/long.c"] = "int x;\n" * 601
        want = "601 lines"
    else:
        files["src/net/long.c"] = "int long_f(int a)\n{\n" + "  a += 1;\n" * 61 + "  return a;\n}\n"
        want = "long_f() has 62 lines"
    code, out = run(*make_tree(tmp_path, files))
    assert code == 1 and want in out, out


def test_a_public_object_struct_fails(tmp_path):
    files = dict(BASE)
    files["include/nncas/net.h"] = ('#include "nncas/core.h"\ntypedef struct _p_Net *Net;\n'
                                    "struct _p_Net {\n  int n;\n};\nint net_f(void);\n")
    code, out = run(*make_tree(tmp_path, files))
    assert code == 1 and "defines struct _p_Net" in out, out


def test_another_modules_private_header_fails(tmp_path):
    files = {"src/core/coreimpl.h": "struct _p_Core {\n  int n;\n};\n"}  # written before net.c is compiled
    files.update(BASE)
    files["src/net/net.c"] = '#include "nncas/net.h"\n#include "../core/coreimpl.h"\nint net_f(void) { return core_f(); }\n'
    code, out = run(*make_tree(tmp_path, files))
    assert code == 1 and "a private header of core" in out, out


PRIVATE = {
    "include/nncas/net.h": '#include "nncas/core.h"\ntypedef struct _p_Net *Net;\nint net_f(void);\n',
    "src/net/netimpl.h": '#include "nncas/net.h"\ntypedef struct { int n; } Layer;\nstruct _p_Net {\n  int n;\n  Layer *layers;\n};\n',
}


@pytest.mark.parametrize("write", ["net->n = 3;", "h.net->n++;", "memcpy(net->layers, 0, 1);", "int *p = &net->n;",
                                   "Layer *L = &net->layers[0];\n  L->n = 1;"])
def test_a_test_writing_a_private_field_fails(tmp_path, write):
    files = dict(BASE)
    files.update(PRIVATE)
    files["tests/test_x.c"] = ('#include "net/netimpl.h"\ntypedef struct { Net net; } H;\n'
                               "void t(Net net, H h)\n{\n  " + write + "\n}\n")
    code, out = run(*make_tree(tmp_path, files))
    assert code == 1 and "a private field" in out, out


def test_a_test_reading_private_fields_passes(tmp_path):
    files = dict(BASE)
    files.update(PRIVATE)
    files["tests/test_x.c"] = ('#include "net/netimpl.h"\n'
                               "int t(Net net, int *x)\n{\n  const Layer *L = &net->layers[0];\n"
                               "  *x = net->n; /* net->n = 1 */\n  return net->n == L->n;\n}\n")
    code, out = run(*make_tree(tmp_path, files))
    assert code == 0, out
