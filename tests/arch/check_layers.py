#!/usr/bin/python3
"""The house rules of docs/architecture.md, checked on the built objects.

    check_layers.py SOURCE_DIR BUILD_DIR

1. Modules are layered:  core <- io <- linalg, import <- data, net, spectrum,
   coupling <- hessian <- train <- stages <- init <- main. A file may include a header of its
   own module or of a lower layer only, and may use (link to) only symbols
   defined in its own module or a lower layer.
2. No loops between files: the graph "file A uses a symbol defined in file B"
   (from `nm` of each object) has no cycle, within a module or across.
3. Size: no file in src/ over MAX_FILE_LINES lines, no function body over
   MAX_FUNCTION_LINES lines.
4. Objects are opaque: no public header (include/nncas/) defines an object's
   struct (`struct _p_X {`), and a file in src/ includes only its own
   module's private headers (src/<module>/*.h); white-box tests, outside
   src/, may include any.
5. No test writes a private field: in tests/ and fuzz/ (the test programs,
   their fixtures, the fuzz targets), no assignment, increment, copy into,
   or address taken (but into a const pointer) of a field reached through a
   variable of a private type: an object's handle (Net, Trainer, ... of a
   struct _p_X defined in src/) or a pointer to a struct defined in a
   private header (Layer *, HessianSlice *, ...). Tests set what they need
   through the public setters and the modules' testing headers
   (src/<module>/*_testing.h); they may still read private fields.

Prints every violation; exit status 1 if there is one.
"""
import os
import re
import subprocess
import sys

LAYERS = [["core"], ["io"], ["linalg", "import"], ["data", "net", "spectrum", "coupling"], ["hessian"], ["train"],
          ["stages"], ["init"], ["main"]]
LEVEL = {m: i for i, ms in enumerate(LAYERS) for m in ms}
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 60

# Public headers (include/nncas/X.h) belong to these modules.
HEADER_MODULE = {
    "core.h": "core", "version.h": "core", "streams.h": "core", "real.h": "core", "real_single.h": "core",
    "h5io.h": "io",
    "scamat.h": "linalg", "linalg.h": "linalg",
    "graph.h": "import",
    "dataset.h": "data", "synthetic.h": "data",
    "net.h": "net",
    "spectrum.h": "spectrum",
    "coupling.h": "coupling",
    "hessian.h": "hessian",
    "trainer.h": "train", "rundir.h": "train", "table.h": "train",
    "stage.h": "stages",
    "init.h": "init",
}


def module_of(rel):
    """Module of a source path relative to SOURCE_DIR (src/io/h5file.c -> io)."""
    parts = rel.split(os.sep)
    if parts[0] == "src":
        return "main" if len(parts) == 2 else parts[1]
    if parts[0] == "include":
        return HEADER_MODULE.get(parts[-1])
    return None


def sources(src):
    out = []
    for base in ("src", "include"):
        for root, _, files in os.walk(os.path.join(src, base)):
            out += [os.path.relpath(os.path.join(root, f), src) for f in files if f.endswith((".c", ".h"))]
    return sorted(out)


def check_includes(src, files, errors):
    for rel in files:
        mod = module_of(rel)
        if mod is None:
            errors.append(f"{rel}: header of no known module (add it to HEADER_MODULE in {__file__})")
            continue
        for n, line in enumerate(open(os.path.join(src, rel)), 1):
            m = re.match(r'\s*#\s*include\s+"nncas/([^"]+)"', line)
            if not m:
                continue
            to = HEADER_MODULE.get(m.group(1))
            if to is None:
                errors.append(f"{rel}:{n}: includes nncas/{m.group(1)}, a header of no known module")
            elif to != mod and LEVEL[to] >= LEVEL[mod]:
                errors.append(f"{rel}:{n}: {mod} includes nncas/{m.group(1)} of {to}, which is not below it")


def check_private(src, files, errors):
    for rel in files:
        text = open(os.path.join(src, rel)).read()
        if rel.startswith("include"):
            for m in re.finditer(r"^struct\s+(_p_\w+)\s*\{", text, re.M):
                errors.append(f"{rel}: defines struct {m.group(1)}; an object's struct belongs in its module's private header")
            continue
        here = os.path.dirname(rel)
        for n, line in enumerate(text.split("\n"), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m or m.group(1).startswith("nncas/"):
                continue
            target = os.path.normpath(os.path.join(here, m.group(1)))
            if os.path.exists(os.path.join(src, target)) and module_of(target) != module_of(rel):
                errors.append(f"{rel}:{n}: includes {m.group(1)}, a private header of {module_of(target)}")


def strip_comments(text):
    """text with comments and string literals blanked (newlines kept)."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', blank, text, flags=re.S)


def private_types(src, files):
    """(handles, structs): the handle typedefs of the structs _p_X defined in
    src/ (Net, Trainer, ...), and the struct types defined in src/'s headers."""
    handles, structs, defined = set(), set(), set()
    for rel in files:
        if not (rel.startswith("src") and rel.endswith(".h")):
            continue
        text = strip_comments(open(os.path.join(src, rel)).read())
        defined.update(re.findall(r"\bstruct\s+(\w+)\s*\{", text))
        structs.update(re.findall(r"^typedef\s+struct\s+\w+\s+(\w+)\s*;", text, re.M))
        for m in re.finditer(r"\btypedef\s+(?:struct|union)\b[^{;]*\{", text):
            depth, i = 1, m.end()
            while depth and i < len(text):
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            name = re.match(r"\s*(?:NN_R\()?(\w+)", text[i:])
            if name:
                structs.add(name.group(1))
    for rel in files:
        if rel.startswith("include"):
            text = open(os.path.join(src, rel)).read()
            for m in re.finditer(r"typedef\s+struct\s+(_p_\w+)\s*\*\s*(\w+)\s*;", text):
                if m.group(1) in defined:
                    handles.add(m.group(2))
    return handles, structs


def private_names(text, handles, structs):
    """Names declared (variables, parameters, members) as a handle or as a pointer to a private struct."""
    names = set()
    for m in re.finditer(r"\b(%s)\b" % "|".join(sorted(handles | structs)), text):
        decl = re.match(r"[^;){=]*", text[m.end():]).group(0)
        for piece in decl.split(","):
            d = re.fullmatch(r"\s*((?:\*|\s|const\b)*)(\w+)\s*(?:\[[^\]]*\]\s*)*", piece)
            if d and (m.group(1) in handles or "*" in d.group(1)):
                names.add(d.group(2))
    return names - {"const"}


COPIERS = r"(?:memcpy|memmove|memset|strcpy|strncpy|snprintf|PetscStrncpy|PetscStrcpy|PetscArraycpy|PetscArrayzero|PetscMemcpy|PetscMemzero|PetscSNPrintf)"
CHAIN = r"(?:\(\s*\*\s*\w+\s*\)|\b\w+)(?:\s*\[[^\]]*\])*(?:\s*(?:->|\.)\s*\w+(?:\s*\[[^\]]*\])*)+"


def private_access(chain, names):
    """The name through which chain reaches a private field, or None."""
    parts = re.split(r"\s*(->|\.)\s*", chain)
    for k in range(0, len(parts) - 2, 2):
        base = re.sub(r"\[[^\]]*\]|[()*\s]", "", parts[k])
        if parts[k + 1] == "->" and base in names:
            return base
    return None


def chain_is_written(text, m, structs):
    """Assigned, incremented, copied into, or its address taken (but into a
    const pointer, or into a pointer to a private struct, whose own writes are
    checked as the field's)."""
    before, after = text[:m.start()].rstrip(), text[m.end():].lstrip()
    if re.match(r"(?:[-+*/%&|^]|<<|>>)?=(?!=)|\+\+|--", after) or before.endswith(("++", "--")):
        return True
    if re.search(COPIERS + r"\s*\(\s*$", before):
        return True
    if before.endswith("&") and not before.endswith("&&"):
        statement = re.split(r"[;{}]", before)[-1]
        kept = r"\s*(?:const\b|(?:%s)\s*\*+\s*\w+\s*=\s*&$)" % "|".join(sorted(structs))
        return not re.match(kept, statement)
    return False


def check_test_writes(src, files, errors):
    handles, structs = private_types(src, files)
    if not handles:
        return
    for d in ("tests", "fuzz"):
        base = os.path.join(src, d)
        if not os.path.isdir(base):
            continue
        tests = sorted(f for f in os.listdir(base) if f.endswith((".c", ".h")))
        headers = {f: strip_comments(open(os.path.join(base, f)).read()) for f in tests if f.endswith(".h")}
        for f in tests:
            text = strip_comments(open(os.path.join(base, f)).read())
            scope = text + "".join(h for name, h in headers.items() if '"%s"' % name in open(os.path.join(base, f)).read())
            names = private_names(scope, handles, structs)
            for m in re.finditer(CHAIN, text):
                via = private_access(m.group(0), names)
                if via and chain_is_written(text, m, structs):
                    n = text.count("\n", 0, m.start()) + 1
                    errors.append(f"{d}/{f}:{n}: writes {' '.join(m.group(0).split())}, a private field (through {via}); "
                                  "use a setter or the module's testing header")


def symbols(obj):
    """(defined, undefined) global symbols of an object file."""
    out = subprocess.run(["nm", "-P", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        name, kind = f[0], f[1]
        if kind == "U":
            undefined.add(name)
        elif kind.isupper():
            defined.add(name)
    return defined, undefined


def objects(src, build):
    """{source rel path: object path} for nncas_core and nncas; the objects of
    the sources compiled a second time in single precision (nncas_single,
    include/nncas/real.h) as "path@single"."""
    found = {}
    for target, tag in (("nncas_core.dir", ""), ("nncas.dir", ""), ("nncas_single.dir", "@single")):
        base = os.path.join(build, "CMakeFiles", target)
        for root, _, files in os.walk(base):
            for f in files:
                obj = os.path.join(root, f)
                rel = os.path.relpath(obj, base)[:-2]
                if f.endswith(".c.o") and os.path.exists(os.path.join(src, rel)):  # not a deleted file's
                    found[rel + tag] = obj
    return found


def find_cycle(graph):
    """A cycle of the directed graph {node: set(nodes)} as a list, or None."""
    colour, stack = {}, []

    def visit(u):
        colour[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if colour.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if v not in colour:
                c = visit(v)
                if c:
                    return c
        stack.pop()
        colour[u] = 2
        return None

    for u in sorted(graph):
        if u not in colour:
            c = visit(u)
            if c:
                return c
    return None


def check_links(src, build, errors):
    objs = objects(src, build)
    if not objs:
        errors.append(f"{build}: no objects of nncas_core found (build first)")
        return
    defs, uses = {}, {}
    for rel, obj in objs.items():
        d, u = symbols(obj)
        uses[rel] = u
        for s in d:
            defs[s] = rel
    graph = {rel: set() for rel in objs}
    for rel, u in uses.items():
        for s in u:
            to = defs.get(s)
            if to is None or to == rel:
                continue
            graph[rel].add(to)
            a, b = module_of(rel), module_of(to)
            if a != b and LEVEL[b] >= LEVEL[a]:
                errors.append(f"{rel}: {a} uses {s} of {to} ({b}), which is not below it")
    while True:
        cycle = find_cycle(graph)
        if not cycle:
            break
        errors.append("a loop between files: " + " -> ".join(cycle))
        graph[cycle[0]].discard(cycle[1])  # report each loop once


def function_lengths(path):
    """(name, first line, body lines) of each top-level function definition."""
    lines = open(path).read().split("\n")
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"^[A-Za-z_][\w\s\*]*?\b(\w+)\(", lines[i])
        if m and not lines[i].rstrip().endswith(";") and not lines[i].startswith(("typedef", "static const", "const")):
            j = i
            while j < len(lines) and lines[j] != "{" and not lines[j].rstrip().endswith(";"):
                j += 1
            if j < len(lines) and lines[j] == "{":
                k = j + 1
                while k < len(lines) and lines[k] != "}":
                    k += 1
                out.append((m.group(1), i + 1, k - j - 1))
                i = k
        i += 1
    return out


def check_sizes(src, files, errors):
    for rel in files:
        if not rel.startswith("src"):
            continue
        path = os.path.join(src, rel)
        n = sum(1 for _ in open(path))
        if n > MAX_FILE_LINES:
            errors.append(f"{rel}: {n} lines (at most {MAX_FILE_LINES})")
        if rel.endswith(".c"):
            for name, first, body in function_lengths(path):
                if body > MAX_FUNCTION_LINES:
                    errors.append(f"{rel}:{first}: {name}() has {body} lines (at most {MAX_FUNCTION_LINES})")


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    src, build = argv[1], argv[2]
    files = sources(src)
    errors = []
    check_includes(src, files, errors)
    check_links(src, build, errors)
    check_sizes(src, files, errors)
    check_private(src, files, errors)
    check_test_writes(src, files, errors)
    for e in errors:
        print("check_layers:", e)
    print(f"check_layers: {len(files)} files, {len(errors)} violations")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
