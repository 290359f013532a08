#!/usr/bin/env python3
"""The man pages render without a single groff warning, and they are
complete: nwfilter(1) has a section for every subcommand `nwfilter --help`
lists and mentions every long option each subcommand's --help shows;
nwfilterd(8) mentions every option of `nwfilterd --help`; nwfilterd.conf(5)
describes every key the daemon's config parser knows."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'stock'))

from taplib import Tap, source_root  # noqa: E402

PAGES = ['docs/nwfilter.1', 'docs/nwfilterd.conf.5', 'src/daemon/nwfilterd.8']


def read(rel):
    with open(os.path.join(source_root(), rel), encoding='utf-8') as f:
        return f.read()


def long_options(help_text):
    return sorted(set(re.findall(r'(?<![\w-])--([a-z][a-z0-9-]*)', help_text)) - {'help'})


def roff(option):
    """How an option is spelled in roff source: every '-' escaped."""
    return '\\-\\-' + option.replace('-', '\\-')


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def main():
    tap = Tap()
    build = os.environ['NWF_BUILD_ROOT']
    for page in PAGES:
        path = os.path.join(source_root(), page)
        res = run('groff', '-man', '-Tutf8', '-ww', '-z', path)
        tap.case(f'{page} renders without warnings', [] if res.returncode == 0 and not res.stderr
                 else [f'exit {res.returncode}'] + res.stderr.splitlines())
        # -P-c: overstrike rather than colour escapes, stripped below.
        res = run('groff', '-man', '-Tutf8', '-P-c', path)
        text = re.sub(r'.\x08', '', res.stdout)
        tap.case(f'{page} has NAME, SYNOPSIS, DESCRIPTION and SEE ALSO',
                 [f'no {s}' for s in ('NAME', 'SYNOPSIS', 'DESCRIPTION', 'SEE ALSO')
                  if not re.search(rf'^{s}\s*$', text, re.M)])

    tool = os.path.join(build, 'tools', 'nwfilter')
    man1 = read('docs/nwfilter.1')
    res = run(tool, '--help')
    commands = [line.split()[0] for line in res.stdout.splitlines()
                if line.startswith('  ') and line.split()]
    tap.case('nwfilter --help lists commands', [] if commands else [res.stdout])
    for cmd in commands:
        tap.case(f'nwfilter(1) has a section for {cmd}',
                 [] if re.search(rf'^\.SS "{re.escape(cmd)}\b', man1, re.M) else ['no .SS'])
        res = run(tool, cmd, '--help')
        missing = [o for o in long_options(res.stdout + res.stderr) if roff(o) not in man1]
        tap.case(f'nwfilter(1) mentions every option of {cmd}',
                 [f'--{o} not documented' for o in missing])

    man8 = read('src/daemon/nwfilterd.8')
    res = run(os.path.join(build, 'src', 'daemon', 'nwfilterd'), '--help')
    opts = long_options(res.stdout)
    tap.case('nwfilterd(8) mentions every option of nwfilterd --help',
             ([] if opts else ['no options found']) +
             [f'--{o} not documented' for o in opts if roff(o) not in man8])

    man5 = read('docs/nwfilterd.conf.5')
    keys = re.findall(r'\{\s*"([a-z_]+)",\s*KEY_', read('src/daemon/nwfilterd_config.c'))
    tap.case('nwfilterd.conf(5) describes every config key',
             ([] if keys else ['no keys found in nwfilterd_config.c']) +
             [f'{k} not described' for k in keys
              if not re.search(rf'^\.BR {k} ', man5, re.M)])
    # The defaults the page states are the ones the daemon starts with.
    config_c = read('src/daemon/nwfilterd_config.c')
    defaults = dict(re.findall(r'config->([a-z_]+) = (\d+);', config_c))
    problems = []
    for key, value in sorted(defaults.items()):
        section = re.search(rf'^\.BR {key} .*?(?=^\.TP|^\.SH)', man5, re.M | re.S)
        if not section or f'Default {value}.' not in section.group(0):
            problems.append(f'{key}: default {value} not stated')
    tap.case('nwfilterd.conf(5) states the built-in numeric defaults',
             ([] if defaults else ['no defaults found']) + problems)
    return tap.finish()


if __name__ == '__main__':
    sys.exit(main())
