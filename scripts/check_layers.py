#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check that lib/vhost is layered as doc/architecture.md says.

A module is a file of lib/vhost with its header (vhost_iotlb.c and
vhost_iotlb.h are "vhost_iotlb"), a header alone ("virtq_verbs"), or a
device type's folder ("net/", "blk/"); lib/vhost/include (the public API)
is not a module. The graph has an edge a -> b when a file of a includes a
header of b, or when an object of a calls a function that an object of b
defines (nm: an undefined symbol of one, a text symbol of the other).

The doc lists the layers top to bottom between "<!-- layers -->" and
"<!-- /layers -->", one numbered line each, the modules in backquotes. The
check fails, naming what is wrong, when the graph has a cycle, when an edge
goes to the same layer or up, when a module is missing from the list, or
when the list names a module that does not exist.

usage: check_layers.py --root SRCDIR [ARCHIVE.a ...]
       check_layers.py --self-test
"""
import argparse
import os
import re
import subprocess
import sys

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
LAYER_RE = re.compile(r'^\s*(\d+)\.\s+(.*)$')


def module_of(rel):
    """Module of a path relative to lib/vhost, or None (the public headers)."""
    parts = rel.split('/')
    if len(parts) > 1:
        return None if parts[0] == 'include' else parts[0] + '/'
    return os.path.splitext(parts[0])[0]


def source_files(vhost):
    """Paths relative to lib/vhost of every .c and .h that belongs to a module."""
    out = []
    for dirpath, _, names in os.walk(vhost):
        for n in sorted(names):
            if n.endswith(('.c', '.h')):
                rel = os.path.relpath(os.path.join(dirpath, n), vhost)
                if module_of(rel) is not None:
                    out.append(rel)
    return sorted(out)


def include_edges(vhost, files):
    """(a, b, why) for each #include of one module's header by another."""
    known = set(files)
    edges = []
    for rel in files:
        with open(os.path.join(vhost, rel), encoding='utf-8') as f:
            text = f.read()
        here = os.path.dirname(rel)
        for inc in INCLUDE_RE.findall(text):
            # The compiler's order: the including file's folder, then lib/vhost.
            for cand in (os.path.normpath(os.path.join(here, inc)), inc):
                if cand in known:
                    edges.append((module_of(rel), module_of(cand),
                                  '%s includes "%s"' % (rel, inc)))
                    break
    return edges


def parse_nm(text):
    """{member: (defined functions, undefined symbols)} from `nm -g` of archives."""
    objs = {}
    cur = None
    for line in text.splitlines():
        if line.endswith(':') and ' ' not in line:
            # A thin archive names its members by path: keep the file name.
            cur = objs.setdefault(os.path.basename(line[:-1]), (set(), set()))
            continue
        p = line.split()
        if cur is None or not p:
            continue
        if len(p) == 2 and p[0] == 'U':
            cur[1].add(p[1])
        elif len(p) == 3 and p[1] in 'TWi':
            cur[0].add(p[2])
    return objs


def call_edges(files, objs):
    """(a, b, why) for each call from one module's object into another's."""
    # Meson names an object after its source path in the target's folder.
    member_mod = {rel.replace('/', '_') + '.o': (rel, module_of(rel))
                  for rel in files if rel.endswith('.c')}
    owner = {}
    for member, (defs, _) in objs.items():
        if member in member_mod:
            for s in defs:
                owner[s] = member_mod[member]
    edges = []
    for member, (_, undefs) in sorted(objs.items()):
        if member not in member_mod:
            continue
        rel, mod = member_mod[member]
        for s in sorted(undefs):
            if s in owner and owner[s][1] != mod:
                edges.append((mod, owner[s][1], '%s calls %s() of %s' % (rel, s, owner[s][0])))
    return edges


def parse_layers(doc_text):
    """[(number, [modules])] between the layer markers of the doc."""
    m = re.search(r'<!-- layers -->(.*?)<!-- /layers -->', doc_text, re.S)
    if m is None:
        return None
    layers = []
    for line in m.group(1).splitlines():
        lm = LAYER_RE.match(line)
        if lm is not None:
            names = re.findall(r'`([^`]+)`', lm.group(2).split(':')[0])
            layers.append((int(lm.group(1)), names))
    return layers


def find_cycle(nodes, edges):
    """One cycle as a list of (a, b, why), or None."""
    out = {}
    for a, b, why in edges:
        if a != b:
            out.setdefault(a, {}).setdefault(b, why)
    state = {}  # 1: on the stack, 2: done
    stack = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(out.get(n, {})):
            if state.get(m) == 1:
                cyc = stack[stack.index(m):] + [m]
                return [(cyc[i], cyc[i + 1], out[cyc[i]][cyc[i + 1]])
                        for i in range(len(cyc) - 1)]
            if m not in state:
                found = visit(m)
                if found is not None:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(nodes):
        if n not in state:
            found = visit(n)
            if found is not None:
                return found
    return None


def check(modules, edges, layers):
    """The problems found, one sentence each; empty if the graph is as the doc says."""
    errors = []
    cyc = find_cycle(modules, edges)
    if cyc is not None:
        errors.append('cycle: ' + ' -> '.join([e[0] for e in cyc] + [cyc[-1][1]]) + ' (' +
                      '; '.join(e[2] for e in cyc) + ')')
    if layers is None:
        return errors + ['doc/architecture.md has no "<!-- layers -->" list']
    level = {}
    for num, names in layers:
        for n in names:
            if n in level:
                errors.append('%s is listed in two layers of doc/architecture.md' % n)
            level[n] = num
    for n in sorted(modules):
        if n not in level:
            errors.append('module %s is not in the layer list of doc/architecture.md: '
                          'add it to the layer it belongs to' % n)
    for n in sorted(level):
        if n not in modules:
            errors.append('doc/architecture.md lists %s, but lib/vhost has no such module' % n)
    seen = set()
    for a, b, why in edges:
        if a == b or a not in level or b not in level or (a, b) in seen:
            continue
        if level[b] <= level[a]:
            seen.add((a, b))
            errors.append('%s (layer %d) depends on %s (layer %d, %s): %s' %
                          (a, level[a], b, level[b],
                           'the same layer' if level[a] == level[b] else 'above it', why))
    return errors


def self_test():
    """The checker itself: each kind of problem is found, a clean graph passes."""
    mods = {'top', 'mid', 'low'}
    layers = [(1, ['top']), (2, ['mid']), (3, ['low'])]
    good = [('top', 'mid', 'x'), ('mid', 'low', 'y'), ('top', 'low', 'z')]
    ok = True

    def expect(cond, what):
        nonlocal ok
        print('%s - %s' % ('ok' if cond else 'not ok', what))
        ok = ok and cond

    expect(check(mods, good, layers) == [], 'a downward graph passes')
    errs = check(mods, good + [('low', 'top', 'low.c calls f() of top.c')], layers)
    expect(any(e.startswith('cycle: low -> top -> mid -> low') or
               e.startswith('cycle: low -> top -> low') for e in errs) and
           any('low (layer 3) depends on top (layer 1' in e for e in errs),
           'a call back up is a cycle and an upward edge: %s' % errs)
    errs = check(mods, [('mid', 'low', 'a'), ('low', 'mid', 'b')], layers)
    expect(any('cycle: low -> mid -> low' in e for e in errs), 'a two-module cycle is named')
    errs = check(mods, [('mid', 'mid2', 'a')], [(1, ['top']), (2, ['mid', 'mid2']),
                                                (3, ['low'])])
    expect(any('the same layer' in e for e in errs), 'an edge within a layer is refused')
    errs = check(mods | {'new'}, good, layers)
    expect(any('module new is not in the layer list' in e for e in errs),
           'a module missing from the doc is named')
    errs = check(mods, good, layers + [(4, ['gone'])])
    expect(any('lists gone' in e for e in errs), 'a module the doc invents is named')
    doc = 'x\n<!-- layers -->\n1. `a/`, `b`: what\n2. `c`: the `d` below\n<!-- /layers -->\n'
    expect(parse_layers(doc) == [(1, ['a/', 'b']), (2, ['c'])], 'the doc list is parsed')
    objs = parse_nm('\nx_a.c.o:\n0000 T fa\n         U fb\n\nlib.a.p/b.c.o:\n0000 T fb\n'
                    '0000 B data\n')
    expect(call_edges(['x/a.c', 'b.c'], objs) == [('x/', 'b', 'x/a.c calls fb() of b.c')],
           'nm output becomes call edges')
    print('1..8')
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', help='the source tree')
    ap.add_argument('--self-test', action='store_true', help='test the checker itself')
    ap.add_argument('archives', nargs='*', help="lib/vhost's static libraries, for nm")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if args.root is None:
        ap.error('--root is needed')
    vhost = os.path.join(args.root, 'lib', 'vhost')
    files = source_files(vhost)
    modules = {module_of(f) for f in files}
    edges = include_edges(vhost, files)
    if args.archives:
        nm = subprocess.run(['nm', '-g'] + args.archives, capture_output=True, text=True,
                            check=True)
        objs = parse_nm(nm.stdout)
        if not any(rel.replace('/', '_') + '.o' in objs for rel in files):
            print('check_layers: no object of lib/vhost in %s: cannot read the calls' %
                  ' '.join(args.archives), file=sys.stderr)
            return 1
        edges += call_edges(files, objs)
    with open(os.path.join(args.root, 'doc', 'architecture.md'), encoding='utf-8') as f:
        layers = parse_layers(f.read())
    errors = check(modules, edges, layers)
    for e in errors:
        print('check_layers: ' + e, file=sys.stderr)
    if errors:
        print('check_layers: lib/vhost is not layered as doc/architecture.md says '
              '(%d problems)' % len(errors), file=sys.stderr)
        return 1
    print('lib/vhost: %d modules, %d edges, no cycle, every edge goes down' %
          (len(modules), len({(a, b) for a, b, _ in edges if a != b})))
    return 0


if __name__ == '__main__':
    sys.exit(main())
