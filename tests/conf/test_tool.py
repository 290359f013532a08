"""nwfilter validate and format, run as a user runs them: exit codes,
messages on stderr, output on stdout. Prints TAP."""

import os
import re
import subprocess
import sys
import tempfile

BUILD = os.environ['NWF_BUILD_ROOT']
SHARED = os.environ['NWF_SHARED']
TOOL = os.path.join(BUILD, 'tools', 'nwfilter')
VECTORS = os.path.join(SHARED, 'vectors', 'libvirt')
UUID_RE = re.compile(r'<uuid>[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}</uuid>')

results = []


def case(name, problems):
    results.append((name, problems))


def run(args, stdin=None, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    p = subprocess.run([TOOL] + args, input=stdin, capture_output=True, text=True, env=full_env)
    return p.returncode, p.stdout, p.stderr


def expect(name, args, rc, stdout=None, stderr=None, stdin=None, env=None):
    got_rc, out, err = run(args, stdin, env)
    problems = []
    if got_rc != rc:
        problems.append(f'exit {got_rc}, wanted {rc}; stderr: {err.strip()}')
    if stdout is not None and out != stdout:
        problems.append(f'stdout {out!r}, wanted {stdout!r}')
    if stderr is not None and err != stderr:
        problems.append(f'stderr {err!r}, wanted {stderr!r}')
    case(name, problems)
    return out, err


def manifest_rows():
    with open(os.path.join(VECTORS, 'manifest.tsv')) as f:
        next(f)
        for line in f:
            cols = line.rstrip('\n').split('\t')
            if cols[0] in ('xml2xml', 'binding'):
                yield cols


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, 'w') as f:
        f.write(text)
    return path


def main():
    rows = list(manifest_rows())
    ok_files = [os.path.join(VECTORS, r[1]) for r in rows if r[0] == 'xml2xml' and r[3] == 'ok']
    bad_files = [os.path.join(VECTORS, r[1]) for r in rows if r[0] == 'xml2xml' and r[3] == 'fail']

    expect('validate all accepted vectors at once', ['validate'] + ok_files, 0, stdout='', stderr='')
    for path in bad_files:
        _, err = expect(f'validate rejects {os.path.basename(path)}', ['validate', path], 1, stdout='')
        if not re.fullmatch(r'error: internal error: \S+ has illegal value \S*\n', err):
            case(f'message for {os.path.basename(path)}', [f'unexpected stderr {err!r}'])

    # format gives the expected bytes (quirks-invalid: libvirt 9.0's output)
    override = os.path.join(os.environ['NWF_SOURCE_ROOT'], 'tests', 'conf', 'data', 'expected-override')
    for kind, inp, exp, expect_ok, _ in rows:
        if expect_ok != 'ok':
            continue
        exp_path = os.path.join(override, os.path.basename(exp))
        if kind != 'xml2xml' or not os.path.exists(exp_path):
            exp_path = os.path.join(VECTORS, exp)
        with open(exp_path) as f:
            wanted = f.read()
        args = ['format'] + (['--binding'] if kind == 'binding' else []) + [os.path.join(VECTORS, inp)]
        expect(f'format {kind} {os.path.basename(inp)}', args, 0, stdout=wanted, stderr='')

    with tempfile.TemporaryDirectory(prefix='nwf-conf-tool-') as tmp:
        messages = [
            ("<filtre name='a'/>", "error: XML error: expecting root element of 'filter', not 'filtre'\n", 27, 5),
            ("<filter name='a'><rule action='allow' direction='in'/></filter>",
             'error: unsupported configuration: unknown rule action attribute value\n', 67, 33),
            ("<filter name='a'><rule action='drop' direction='in'><tcp dstportstart='70000'/></rule></filter>",
             'error: internal error: dstportstart has illegal value 70000\n', 1, 33),
            ("<filter name='a' chain='rootx'/>",
             "error: invalid argument: Invalid chain name 'rootx'. Please use a chain name called 'root' "
             'or any of the following prefixes: mac, vlan, stp, arp, rarp, ipv4, ipv6\n', 8, 33),
        ]
        for i, (doc, message, code, domain) in enumerate(messages):
            path = write(tmp, f'm{i}.xml', doc)
            expect(f'validate message {i}', ['validate', path], 1, stdout='', stderr=message)
            _, err = expect(f'validate --verbose {i}', ['validate', '--verbose', path], 1)
            if f'(code {code}, domain {domain})' not in err or message[len('error: '):-1] not in err:
                case(f'verbose code {i}', [f'stderr {err!r} lacks code {code} domain {domain}'])
            expect(f'validate stdin {i}', ['validate', '-'], 1, stderr=message, stdin=doc)
            expect(f'format refuses {i}', ['format', path], 1, stdout='', stderr=message)

        good = write(tmp, 'good.xml', "<filter name='a'><rule action='drop' direction='in'/></filter>")
        bad = write(tmp, 'bad.xml', "<filter name='a'><rule direction='in'/></filter>")
        expect('validate good and bad together', ['validate', good, bad], 1,
               stderr='error: internal error: rule node requires action attribute\n')
        expect('validate --verbose says valid', ['validate', '--verbose', good], 0, stdout=f'{good}: valid\n')
        expect('validate missing file', ['validate', os.path.join(tmp, 'absent.xml')], 2)
        expect('validate without files', ['validate'], 2)
        expect('validate unknown option', ['validate', '--bogus', good], 2)
        expect('format missing file', ['format', os.path.join(tmp, 'absent.xml')], 2)
        expect('format without file', ['format'], 2)

        # a fresh uuid where the document has none, different each time
        out1, _ = expect('format adds uuid', ['format', good], 0)
        out2, _ = expect('format adds uuid from stdin', ['format', '-'], 0,
                         stdin="<filter name='a'><rule action='drop' direction='in'/></filter>")
        problems = []
        for out in (out1, out2):
            if not UUID_RE.search(out):
                problems.append(f'no v4 uuid in {out!r}')
        if UUID_RE.search(out1) and UUID_RE.search(out2) and \
                UUID_RE.search(out1).group(0) == UUID_RE.search(out2).group(0):
            problems.append('the same uuid twice')
        case('generated uuids are v4 and fresh', problems)

        # binding: errors and stdin
        expect('validate --binding vector', ['validate', '--binding',
                                             os.path.join(VECTORS, 'binding', 'in', 'simple.xml')], 0)
        expect('validate --binding refuses a filter', ['validate', '--binding', good], 1,
               stderr="error: XML error: expecting root element of 'filterbinding', not 'filter'\n")
        with open(os.path.join(VECTORS, 'binding', 'in', 'filter-vars.xml')) as f:
            text = f.read()
        expect('format --binding stdin', ['format', '--binding', '-'], 0, stdout=text, stdin=text)

        # --schema with a schema directory given by NWF_SCHEMA_DIR
        schemas = os.path.join(tmp, 'schemas')
        os.mkdir(schemas)
        write(schemas, 'nwfilter.rng',
              '<grammar xmlns="http://relaxng.org/ns/structure/1.0"><start>'
              '<element name="filter"><attribute name="name"/>'
              '<zeroOrMore><element name="rule"><attribute name="action"/>'
              '<attribute name="direction"/></element></zeroOrMore>'
              '</element></start></grammar>')
        env = {'NWF_SCHEMA_DIR': schemas}
        expect('validate --schema accepts', ['validate', '--schema', good], 0, env=env)
        extra = write(tmp, 'extra.xml', "<filter name='a' bogus='1'/>")
        expect('without --schema an unknown attribute passes', ['validate', extra], 0, env=env)
        _, err = expect('validate --schema rejects', ['validate', '--schema', extra], 1, env=env)
        if not err.startswith('error: XML document failed to validate against schema: '):
            case('schema message', [f'stderr {err!r}'])
        expect('validate --schema without schema file', ['validate', '--schema', good], 1,
               env={'NWF_SCHEMA_DIR': tmp})

        # filter lookup of compile (the library's lenient lookup): a broken or
        # misnamed copy in --filter-dir is passed over for the stock filter;
        # with nothing to fall back on, the file's problem is named
        top = write(tmp, 'top.xml', "<filter name='top'><filterref filter='no-mac-spoofing'/>"
                                    "<filterref filter='leaf'/></filter>")
        fdir = os.path.join(tmp, 'fdir')
        os.mkdir(fdir)
        write(fdir, 'leaf.xml', "<filter name='leaf'><rule action='drop' direction='out'>"
                                "<udp dstportstart='53'/></rule></filter>")
        write(fdir, 'no-mac-spoofing.xml', "<filter name='no-mac-spoofing'><rule/></filter>")
        compile_args = ['compile', '--backend', 'nft', '--filter', top, '--port', 'vnet0',
                        '--mac', '52:54:00:00:00:02', '--filter-dir', fdir]
        out, _ = expect('compile: a broken copy in --filter-dir leaves the stock filter',
                        compile_args, 0)
        if 'dport 53' not in out or '52:54:00:00:00:02' not in out:
            case('compile uses both filters', [f'stdout {out!r}'])
        expect('compile: a broken filter with no stock fallback is named',
               compile_args + ['--no-stock-filters'], 1, stdout='',
               stderr=f"error: operation failed: cannot load {fdir}/no-mac-spoofing.xml: "
                      "internal error: rule node requires action attribute; internal error: "
                      "referenced filter 'no-mac-spoofing' is missing\n")
        write(fdir, 'leaf.xml', "<filter name='other'/>")
        os.unlink(os.path.join(fdir, 'no-mac-spoofing.xml'))
        expect('compile: the misnamed file is the reason a filter is missing', compile_args, 1,
               stdout='', stderr=f"error: operation failed: {fdir}/leaf.xml holds filter "
                                 "'other', not 'leaf'; internal error: referenced filter "
                                 "'leaf' is missing\n")

    failed = 0
    for i, (name, problems) in enumerate(results, 1):
        if problems:
            failed += 1
            print(f'not ok {i} - {name}')
            for p in problems:
                print(f'  # {p}')
        else:
            print(f'ok {i} - {name}')
    print(f'1..{len(results)}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
