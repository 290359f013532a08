#!/usr/bin/env python3
"""Checks every stock filter in src/nwfilter/xml against its description
(stock_table.py), then, once the nwfilter tool has validate and format, that
the tool accepts each file and prints it back unchanged apart from the
generated uuid. Prints TAP, one case per check."""

import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stock_table import STOCK  # noqa: E402
from taplib import (Tap, run_tool, stock_dir, tool_missing_commands,  # noqa: E402
                    tool_path)

UUID_LINE = re.compile(r'^  <uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-'
                       r'[0-9a-f]{4}-[0-9a-f]{12}</uuid>$')


def compare_entry(index, got, want):
    where = f'entry {index + 1}'
    if want[0] == 'ref':
        problems = []
        if got.tag != 'filterref':
            return [f'{where}: expected <filterref>, found <{got.tag}>']
        if got.attrib != {'filter': want[1]}:
            problems.append(f'{where}: filterref attributes {got.attrib}, '
                            f'expected filter={want[1]!r}')
        if len(got):
            problems.append(f'{where}: filterref must carry no parameters')
        return problems

    _, action, direction, priority, protocol, attrs = want
    if got.tag != 'rule':
        return [f'{where}: expected <rule>, found <{got.tag}>']
    problems = []
    expected_rule = {'action': action, 'direction': direction,
                     'priority': str(priority)}
    if got.attrib != expected_rule:
        problems.append(f'{where}: rule attributes {got.attrib}, '
                        f'expected {expected_rule}')
    children = list(got)
    if protocol is None:
        if children:
            problems.append(f'{where}: rule must have no protocol element, '
                            f'found <{children[0].tag}>')
        return problems
    if len(children) != 1:
        return problems + [f'{where}: expected one <{protocol}>, found '
                           f'{[c.tag for c in children]}']
    elem = children[0]
    if elem.tag != protocol:
        problems.append(f'{where}: protocol <{elem.tag}>, expected '
                        f'<{protocol}>')
    if elem.attrib != attrs:
        problems.append(f'{where}: <{elem.tag}> attributes {elem.attrib}, '
                        f'expected {attrs}')
    if len(elem):
        problems.append(f'{where}: <{elem.tag}> must be empty')
    return problems


def compare_filter(name, text, allow_uuid):
    """Problems found when TEXT is compared with NAME's description."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        return [f'not well-formed XML: {e}']
    chain, priority, entries = STOCK[name]
    problems = []
    if root.tag != 'filter':
        return [f'root element <{root.tag}>, expected <filter>']
    expected_root = {'name': name, 'chain': chain}
    if priority is not None:
        expected_root['priority'] = priority
    if root.attrib != expected_root:
        problems.append(f'filter attributes {root.attrib}, expected '
                        f'{expected_root}')
    children = list(root)
    if children and children[0].tag == 'uuid':
        if not allow_uuid:
            problems.append('stock files carry no <uuid>')
        children = children[1:]
    if len(children) != len(entries):
        problems.append(f'{len(children)} entries, expected {len(entries)}')
    for i, (got, want) in enumerate(zip(children, entries)):
        problems += compare_entry(i, got, want)
    return problems


def check_layout(text):
    """The files are written in dumpxml form: single quotes, two-space
    indentation, one element per line, no comments, final newline."""
    problems = []
    if not text.endswith('\n'):
        problems.append('file does not end with a newline')
    if '"' in text:
        problems.append('double quotes; dumpxml form uses single quotes')
    if '<!--' in text:
        problems.append('XML comment; dumpxml form has none')
    depth = 0
    for n, line in enumerate(text.splitlines(), 1):
        body = line.lstrip(' ')
        if body.startswith('</'):
            depth -= 1
        if len(line) - len(body) != 2 * depth or not body:
            problems.append(f'line {n}: expected {2 * depth} spaces of '
                            f'indentation: {line!r}')
        if not body.startswith('</') and not body.endswith('/>'):
            depth += 1
    return problems


def check_with_tool(tool, path, name, text):
    for args in (['validate', path], ['validate', '--schema', path]):
        res = run_tool(tool, *args)
        if res.returncode != 0:
            return [f'nwfilter {" ".join(args[:-1])} exit {res.returncode}: '
                    f'{res.stderr.strip()}']
    res = run_tool(tool, 'format', path)
    if res.returncode != 0:
        return [f'nwfilter format exit {res.returncode}: '
                f'{res.stderr.strip()}']
    out = res.stdout
    problems = compare_filter(name, out, allow_uuid=True)
    lines = out.splitlines(keepends=True)
    if len(lines) < 2 or not UUID_LINE.match(lines[1].rstrip('\n')):
        problems.append('format output lacks a generated <uuid> line')
    elif lines[:1] + lines[2:] != text.splitlines(keepends=True):
        problems.append('format output (uuid aside) differs from the file:\n'
                        + out)
    return problems


def main():
    tap = Tap()
    directory = stock_dir()
    files = sorted(glob.glob(os.path.join(directory, '*.xml')))
    names = [os.path.basename(f)[:-len('.xml')] for f in files]
    problems = []
    if len(files) != 24:
        problems.append(f'{len(files)} stock files, expected 24')
    for extra in sorted(set(names) - set(STOCK)):
        problems.append(f'unexpected stock file {extra}.xml')
    for missing in sorted(set(STOCK) - set(names)):
        problems.append(f'missing stock file {missing}.xml')
    tap.case('exactly the 24 stock filters exist', problems)

    texts = {}
    for name in sorted(STOCK):
        path = os.path.join(directory, name + '.xml')
        if not os.path.exists(path):
            tap.case(name, [f'{path} is missing'])
            continue
        with open(path, encoding='utf-8') as f:
            texts[name] = f.read()
        tap.case(name, compare_filter(name, texts[name], allow_uuid=False)
                 + check_layout(texts[name]))

    tool = tool_path()
    missing = tool_missing_commands(tool, ['validate', 'format'])
    for name in sorted(STOCK):
        label = f'nwfilter validate+format {name}'
        if missing:
            why = 'nwfilter tool lacks ' + ', '.join(missing)
            if os.environ.get('CI') == 'true':
                tap.case(label, [why])
            else:
                tap.case(label, [], skip=why)
        elif name not in texts:
            tap.case(label, ['stock file missing'])
        else:
            path = os.path.join(directory, name + '.xml')
            tap.case(label, check_with_tool(tool, path, name, texts[name]))
    return tap.finish()


if __name__ == '__main__':
    sys.exit(main())
