#!/usr/bin/env python3
"""`meson install --destdir` gives a tree a distribution could package:
the two programs (and nothing else executable), the stock filters, the
schemas, the systemd units, the man pages, the HTML documentation and the
message catalogues. Usage: test_install.py MESON."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'stock'))

from taplib import Tap, source_root  # noqa: E402

DOC_PAGES = ['index', 'filter-format', 'binding-format', 'stock-filters', 'architecture',
             'operations']
MAN_PAGES = [('man1', 'nwfilter.1'), ('man5', 'nwfilterd.conf.5'), ('man8', 'nwfilterd.8')]
SCHEMAS = ['basictypes.rng', 'nwfilter.rng', 'nwfilterbinding.rng']
UNITS = ['nwfilterd.service', 'nwfilterd.socket', 'nwfilterd-ro.socket']


def build_options(meson, build):
    res = subprocess.run([meson, 'introspect', build, '--buildoptions'],
                         capture_output=True, text=True, check=True)
    return {o['name']: o['value'] for o in json.loads(res.stdout)}


def linguas():
    with open(os.path.join(source_root(), 'po', 'LINGUAS'), encoding='utf-8') as f:
        return [w for line in f for w in line.split('#')[0].split()]


def executable(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def check_programs(tap, root, opts):
    bindir = root + os.path.join(opts['prefix'], opts['bindir'])
    sbindir = root + os.path.join(opts['prefix'], opts['sbindir'])
    for path, name in ((bindir, 'nwfilter'), (sbindir, 'nwfilterd')):
        prog = os.path.join(path, name)
        problems = []
        if not executable(prog):
            problems.append(f'{prog} missing or not executable')
        else:
            res = subprocess.run([prog, '--version'], capture_output=True, text=True)
            if res.returncode != 0 or not res.stdout.startswith(name + ' '):
                problems.append(f'--version: exit {res.returncode}, {res.stdout!r}')
        tap.case(f'{name} installed and runs', problems)
    # Test programs, fuzzers and benchmarks stay in the build tree.
    extra = []
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            if executable(p) and f not in ('nwfilter', 'nwfilterd'):
                extra.append(os.path.relpath(p, root))
    tap.case('no other executables installed', [f'unexpected: {e}' for e in extra])


def check_data(tap, root, opts, tool):
    datadir = root + os.path.join(opts['prefix'], opts['datadir'])
    src_filters = sorted(os.listdir(os.path.join(source_root(), 'src', 'nwfilter', 'xml')))
    inst = os.path.join(datadir, 'nwfilter', 'filters')
    got = sorted(os.listdir(inst)) if os.path.isdir(inst) else []
    tap.case(f'{len(src_filters)} stock filters installed', [] if got == src_filters else
             [f'missing {sorted(set(src_filters) - set(got))}, extra {sorted(set(got) - set(src_filters))}'])
    if got and executable(tool):
        res = subprocess.run([tool, 'validate'] + [os.path.join(inst, f) for f in got],
                             capture_output=True, text=True)
        tap.case('installed stock filters validate with the installed tool',
                 [] if res.returncode == 0 else [res.stderr.strip()])
    for s in SCHEMAS:
        p = os.path.join(datadir, 'nwfilter', 'schemas', s)
        tap.case(f'schema {s} installed', [] if os.path.isfile(p) else [f'{p} missing'])

    docdir = os.path.join(datadir, 'doc', 'nwfilter')
    for page in DOC_PAGES:
        p = os.path.join(docdir, page + '.html')
        problems = []
        if not os.path.isfile(p):
            problems.append(f'{p} missing')
        else:
            with open(p, encoding='utf-8') as f:
                html = f.read()
            if '<h1' not in html:
                problems.append('no heading: not a rendered page')
            for target in sorted(set(re.findall(r'href="([a-z-]+\.html)(?:#[^"]*)?"', html))):
                if not os.path.isfile(os.path.join(docdir, target)):
                    problems.append(f'link to {target}, which is not installed')
        tap.case(f'doc page {page}.html installed, links resolve', problems)

    mandir = root + os.path.join(opts['prefix'], opts['mandir'])
    for section, page in MAN_PAGES:
        p = os.path.join(mandir, section, page)
        tap.case(f'man page {section}/{page} installed', [] if os.path.isfile(p) else [f'{p} missing'])

    localedir = root + os.path.join(opts['prefix'], opts['localedir'])
    for lang in linguas():
        p = os.path.join(localedir, lang, 'LC_MESSAGES', 'nwfilter.mo')
        tap.case(f'catalogue {lang} installed', [] if os.path.isfile(p) else [f'{p} missing'])


def check_units(tap, root, opts):
    found = {os.path.basename(p): p for p in glob.glob(os.path.join(root, '**', '*.s*'),
                                                      recursive=True)
             if os.path.basename(p) in UNITS}
    for unit in UNITS:
        problems = []
        p = found.get(unit)
        if not p:
            problems.append('not installed')
        elif '/systemd/system/' not in p:
            problems.append(f'installed outside a systemd unit directory: {p}')
        tap.case(f'unit {unit} installed', problems)
    service = found.get('nwfilterd.service')
    if service:
        with open(service, encoding='utf-8') as f:
            text = f.read()
        want = os.path.join(opts['prefix'], opts['sbindir'], 'nwfilterd')
        exec_start = re.search(r'^ExecStart=(\S+)', text, re.M)
        tap.case('nwfilterd.service starts the installed daemon',
                 [] if exec_start and exec_start.group(1) == want else
                 [f'ExecStart {exec_start.group(1) if exec_start else None}, expected {want}'])


def main():
    meson = sys.argv[1]
    build = os.environ['NWF_BUILD_ROOT']
    tap = Tap()
    opts = build_options(meson, build)
    root = tempfile.mkdtemp(prefix='nwf-docs-install-')
    try:
        res = subprocess.run([meson, 'install', '-C', build, '--destdir', root,
                              '--no-rebuild', '--quiet'],
                             capture_output=True, text=True, timeout=300)
        tap.case('meson install --destdir succeeds', [] if res.returncode == 0 else
                 [line for line in (res.stdout + res.stderr).splitlines()[-20:]])
        if res.returncode != 0:
            return tap.finish()
        tool = root + os.path.join(opts['prefix'], opts['bindir'], 'nwfilter')
        check_programs(tap, root, opts)
        check_data(tap, root, opts, tool)
        check_units(tap, root, opts)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return tap.finish()


if __name__ == '__main__':
    sys.exit(main())
