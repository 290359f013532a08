#!/usr/bin/env python3
"""The message catalogue is current and complete:
- every C file under src/ and tools/ follows the marking rules of
  check_messages.py for messages and command-line help (one case per file);
- every file with marked strings is listed in po/POTFILES;
- xgettext over POTFILES finds exactly the msgids of po/nwfilter.pot;
- each translation in po/LINGUAS has exactly those msgids, all translated,
  none fuzzy, and passes msgfmt --check;
- the built catalogue is used at run time: with LANGUAGE=de the tool's error
  comes out in German, without it in libvirt's English.
Usage: test_po.py XGETTEXT MSGFMT."""
import glob
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'stock'))
sys.path.insert(0, HERE)

from check_messages import has_marked_strings, unmarked_help, unmarked_messages  # noqa: E402
from taplib import Tap, source_root, tool_path  # noqa: E402


# The keywords of meson's i18n 'glib' preset (po/meson.build).
KEYWORDS = ['_', 'N_', 'C_:1c,2', 'NC_:1c,2', 'g_dcgettext:2', 'g_dngettext:2,3',
            'g_dpgettext2:2c,3']


def po_entries(path):
    """msgid -> (msgstr, fuzzy) of a .po/.pot file; the header and obsolete
    (#~) entries are left out."""
    entries, cur, field, fuzzy = {}, None, None, False

    def close():
        if cur is not None and cur['msgid']:
            entries[cur['msgid']] = (cur['msgstr'], cur['fuzzy'])

    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('#,'):
                fuzzy = 'fuzzy' in line
            elif line.startswith('msgid '):
                close()
                cur = {'msgid': '', 'msgstr': '', 'fuzzy': fuzzy}
                fuzzy = False
                field = 'msgid'
                cur[field] += unquote(line[6:])
            elif line.startswith('msgstr '):
                field = 'msgstr'
                cur[field] += unquote(line[7:])
            elif line.startswith('"') and cur is not None:
                cur[field] += unquote(line)
    close()
    return entries


def unquote(quoted):
    body = quoted.strip()[1:-1]
    return re.sub(r'\\(.)', lambda m: {'n': '\n', 't': '\t'}.get(m.group(1), m.group(1)), body)


def c_sources():
    root = source_root()
    files = glob.glob(os.path.join(root, 'src', '**', '*.c'), recursive=True)
    files += glob.glob(os.path.join(root, 'tools', '*.c'))
    return sorted(os.path.relpath(f, root) for f in files)


def read(rel):
    with open(os.path.join(source_root(), rel), encoding='utf-8') as f:
        return f.read()


def set_diff(label_a, a, label_b, b):
    return ([f'in {label_a}, not in {label_b}: {m!r}' for m in sorted(set(a) - set(b))] +
            [f'in {label_b}, not in {label_a}: {m!r}' for m in sorted(set(b) - set(a))])


def main():
    xgettext, msgfmt = sys.argv[1], sys.argv[2]
    root = source_root()
    po = os.path.join(root, 'po')
    tap = Tap()

    with open(os.path.join(po, 'POTFILES'), encoding='utf-8') as f:
        potfiles = [line.strip() for line in f if line.strip() and not line.startswith('#')]
    tap.case('POTFILES is sorted, unique, and every entry exists',
             ([] if potfiles == sorted(set(potfiles)) else ['not sorted or has duplicates']) +
             [f'{p} does not exist' for p in potfiles if not os.path.isfile(os.path.join(root, p))])

    sources = c_sources()
    for rel in sources:
        text = read(rel)
        problems = [f'line {line}: {call}: {arg}' for line, call, arg in
                    unmarked_messages(text) + unmarked_help(text)]
        if has_marked_strings(text) and rel not in potfiles:
            problems.append('has marked strings but is not listed in po/POTFILES')
        tap.case(f'{rel}: messages marked for translation', problems)

    with tempfile.TemporaryDirectory(prefix='nwf-docs-po-') as tmp:
        fresh = os.path.join(tmp, 'fresh.pot')
        res = subprocess.run([xgettext, '--from-code=UTF-8', '-o', fresh, '-D', root,
                              '-f', os.path.join(po, 'POTFILES')] +
                             [f'--keyword={k}' for k in KEYWORDS],
                             capture_output=True, text=True)
        if res.returncode != 0:
            tap.case('xgettext over POTFILES', [res.stderr.strip()])
            return tap.finish()
        found = po_entries(fresh) if os.path.exists(fresh) else {}
    pot = po_entries(os.path.join(po, 'nwfilter.pot'))
    hint = 'regenerate: ninja -C BUILD nwfilter-pot nwfilter-update-po'
    diff = set_diff('the sources', found, 'po/nwfilter.pot', pot)
    tap.case(f'po/nwfilter.pot is current ({len(pot)} messages)', diff + ([hint] if diff else []))

    with open(os.path.join(po, 'LINGUAS'), encoding='utf-8') as f:
        linguas = [w for line in f for w in line.split('#')[0].split()]
    tap.case('LINGUAS names at least one translation', [] if linguas else ['empty'])
    for lang in linguas:
        path = os.path.join(po, f'{lang}.po')
        if not os.path.isfile(path):
            tap.case(f'{lang}.po exists', ['missing'])
            continue
        res = subprocess.run([msgfmt, '--check', '-o', os.devnull, path],
                             capture_output=True, text=True)
        tap.case(f'{lang}.po passes msgfmt --check', [] if res.returncode == 0 else
                 res.stderr.strip().splitlines())
        entries = po_entries(path)
        diff = set_diff(f'{lang}.po', entries, 'po/nwfilter.pot', pot)
        tap.case(f'{lang}.po has the messages of the catalogue', diff + ([hint] if diff else []))
        tap.case(f'{lang}.po translates every message',
                 [f'untranslated: {m!r}' for m, (s, fz) in sorted(entries.items()) if not s] +
                 [f'fuzzy: {m!r}' for m, (s, fz) in sorted(entries.items()) if s and fz])

    check_runtime(tap, po)
    return tap.finish()


def check_runtime(tap, po):
    """The catalogue built from de.po is what the programs use: with
    LANGUAGE=de an error and the command list come out as de.po says, without
    it in English (libvirt's messages byte for byte)."""
    tool = tool_path()
    build_po = os.path.join(os.environ['NWF_BUILD_ROOT'], 'po')
    mo = os.path.join(build_po, 'de', 'LC_MESSAGES', 'nwfilter.mo')
    if tool is None or not os.path.isfile(mo):
        tap.case('German catalogue used at run time', [f'not built: {tool}, {mo}'])
        return
    de = po_entries(os.path.join(po, 'de.po'))

    def german(msgid):
        return de.get(msgid, ('', False))[0] or msgid

    detail = 'filter has no name'
    usage = 'Usage: nwfilter COMMAND [OPTION…]\n\nCommands:\n'
    sockets = 'Directory of the sockets (default /run/libvirt)'
    daemon = os.path.join(os.environ['NWF_BUILD_ROOT'], 'src', 'daemon', 'nwfilterd')
    cases = [
        ('nwfilter validate', [tool, 'validate', '-'], 1, 'stderr',
         german('internal error: %s').replace('%s', german(detail), 1),
         'internal error: ' + detail),
        ('nwfilter --help', [tool, '--help'], 0, 'stdout', german(usage), usage),
        ('nwfilterd --help', [daemon, '--help'], 0, 'stdout', german(sockets), sockets),
    ]
    for what, argv, status, stream, in_german, in_english in cases:
        for lang, message in (('de', in_german), ('', in_english)):
            env = dict(os.environ, LC_ALL='C.UTF-8', NWF_LOCALEDIR=build_po)
            env.pop('LANGUAGE', None)
            env.pop('LANG', None)
            if lang:
                env['LANGUAGE'] = lang
            res = subprocess.run(argv, input='<filter/>\n', env=env,
                                 capture_output=True, text=True)
            out = res.stdout if stream == 'stdout' else res.stderr
            tap.case(f'{what} with LANGUAGE={lang or "(unset)"}',
                     [] if res.returncode == status and message in out else
                     [f'exit {res.returncode}, {stream} {out!r}, expected {message!r}'])


if __name__ == '__main__':
    sys.exit(main())
