#!/usr/bin/env python3
"""Every XML example of the documentation is a test vector: `nwfilter
validate` accepts it and `nwfilter format` prints it back byte for byte (the
examples are written in normal form, with a uuid, so the output is stable).
One TAP case per example and check."""
import difflib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'stock'))
sys.path.insert(0, HERE)

from doc_examples import iter_examples  # noqa: E402
from taplib import Tap, run_tool, source_root, tool_path  # noqa: E402

# A floor, so that a broken extractor (finding nothing) cannot pass.
MIN_EXAMPLES = 14


def main():
    tap = Tap()
    tool = tool_path()
    if tool is None:
        print('Bail out! nwfilter tool not built (NWF_BUILD_ROOT unset?)')
        return 1
    examples = list(iter_examples(os.path.join(source_root(), 'docs')))
    tap.case(f'at least {MIN_EXAMPLES} XML examples found',
             [] if len(examples) >= MIN_EXAMPLES else [f'found {len(examples)}'])
    for name, line, text in examples:
        where = f'{name}:{line}'
        binding = text.lstrip().startswith('<filterbinding')
        kind = ['--binding'] if binding else []
        if not binding:
            tap.case(f'{where} has a uuid (stable normal form)',
                     [] if '<uuid>' in text else ['no <uuid> element'])
        res = run_tool(tool, 'validate', *kind, '-', stdin=text)
        tap.case(f'{where} validates', [] if res.returncode == 0 else
                 [f'exit {res.returncode}: {res.stderr.strip()}'])
        res = run_tool(tool, 'validate', '--schema', *kind, '-', stdin=text)
        tap.case(f'{where} validates against the schema', [] if res.returncode == 0 else
                 [f'exit {res.returncode}: {res.stderr.strip()}'])
        res = run_tool(tool, 'format', *kind, '-', stdin=text)
        problems = []
        if res.returncode != 0:
            problems.append(f'exit {res.returncode}: {res.stderr.strip()}')
        elif res.stdout != text:
            problems += [d.rstrip('\n') for d in difflib.unified_diff(
                text.splitlines(True), res.stdout.splitlines(True),
                'documented', 'nwfilter format')]
        tap.case(f'{where} is in normal form', problems)
    stock = sorted(f[:-4] for f in os.listdir(os.path.join(source_root(), 'src', 'nwfilter', 'xml'))
                   if f.endswith('.xml'))
    with open(os.path.join(source_root(), 'docs', 'stock-filters.rst'), encoding='utf-8') as f:
        page = f.read()
    tap.case(f'stock-filters.rst describes all {len(stock)} stock filters',
             [f'{name} not described' for name in stock
              if not re.search(rf'^``{re.escape(name)}``', page, re.M)])
    return tap.finish()


if __name__ == '__main__':
    sys.exit(main())
