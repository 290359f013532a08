"""Differential check against the installed libvirt 9.0 (developer tool).

Builds libvirt_oracle.c, then runs every file of the given directories
through both `nwfilter format` and libvirt's own parser/formatter, and
prints a summary of where they differ (uuid lines ignored).

  python3 fuzz/diff_libvirt.py BUILD_DIR [--binding] DIR...
"""

import collections
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, data):
    p = subprocess.run(cmd, input=data, capture_output=True, timeout=60)
    out = p.stdout.decode('utf-8', 'replace')
    if p.returncode != 0:
        err = p.stderr.decode('utf-8', 'replace') or out
        return 'ERR', err.strip()
    return 'OK', '\n'.join(l for l in out.splitlines() if '<uuid>' not in l)


def first_difference(a, b):
    """The first line where A and B differ."""
    la, lb = a.splitlines(), b.splitlines()
    for x, y in zip(la, lb):
        if x != y:
            return x.strip()[:200], y.strip()[:200]
    return (la[len(lb)] if len(la) > len(lb) else '')[:200], (lb[len(la)] if len(lb) > len(la) else '')[:200]


def main():
    build = sys.argv[1]
    binding = '--binding' in sys.argv
    dirs = [a for a in sys.argv[2:] if a != '--binding']
    tool = os.path.join(build, 'tools', 'nwfilter')
    with tempfile.TemporaryDirectory() as tmp:
        oracle = os.path.join(tmp, 'oracle')
        subprocess.run(['cc', '-o', oracle, os.path.join(HERE, 'libvirt_oracle.c'), '-lvirt'],
                       check=True)
        counts = collections.Counter()
        examples = collections.defaultdict(list)
        for d in dirs:
            for name in sorted(os.listdir(d)):
                with open(os.path.join(d, name), 'rb') as f:
                    data = f.read()
                ours = run([tool, 'format'] + (['--binding'] if binding else []) + ['-'], data)
                theirs = run([oracle] + (['-b'] if binding else []) + ['-'], data)
                if ours[0] == 'OK' and theirs[0] == 'OK':
                    kind = 'same output' if ours[1] == theirs[1] else 'different output'
                elif ours[0] == 'ERR' and theirs[0] == 'ERR':
                    ours_msg = ours[1].removeprefix('error: ')
                    theirs_msg = theirs[1].split(' ', 2)[2] if theirs[1].count(' ') >= 2 else theirs[1]
                    if ours_msg == theirs_msg:
                        kind = 'both reject, same message'
                    elif ours_msg.startswith('(nwfilter') and theirs_msg.startswith('(nwfilter'):
                        kind = 'both reject as not well-formed'
                    else:
                        kind = 'both reject, different message'
                        ours = ours[0], ours_msg
                        theirs = theirs[0], theirs_msg
                elif ours[0] == 'ERR':
                    kind = 'only we reject'
                else:
                    kind = 'only libvirt rejects'
                counts[kind] += 1
                if kind not in ('same output', 'both reject, same message', 'both reject as not well-formed'):
                    examples[kind].append((name,) + first_difference(ours[1], theirs[1]))
        for kind, n in sorted(counts.items()):
            print(f'{kind}: {n}')
        for kind, rows in examples.items():
            print(f'--- {kind}')
            for name, a, b in rows[:int(os.environ.get('NWF_DIFF_EXAMPLES', '10'))]:
                print(f'{name}\n  ours:    {a!r}\n  libvirt: {b!r}')


if __name__ == '__main__':
    main()
