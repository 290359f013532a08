"""Small helpers shared by the stock-filter and schema tests: TAP output,
locating the shared data and the nwfilter tool."""

import os
import subprocess
import sys


class Tap:
    """Collects results and prints one TAP line per case."""

    def __init__(self):
        self.count = 0
        self.failed = 0

    def case(self, name, problems, skip=None):
        self.count += 1
        if skip:
            print(f'ok {self.count} - {name} # SKIP {skip}')
            return
        if problems:
            self.failed += 1
            print(f'not ok {self.count} - {name}')
            for p in problems:
                print(f'  # {p}')
        else:
            print(f'ok {self.count} - {name}')

    def finish(self):
        print(f'1..{self.count}')
        sys.stdout.flush()
        return 1 if self.failed else 0


def source_root():
    return os.environ.get('NWF_SOURCE_ROOT',
                          os.path.join(os.path.dirname(__file__), '..', '..'))


def shared_root():
    return os.environ.get('NWF_SHARED',
                          os.path.join(source_root(), '..', 'shared'))


def stock_dir():
    return os.path.join(source_root(), 'src', 'nwfilter', 'xml')


def tool_path():
    build = os.environ.get('NWF_BUILD_ROOT')
    if not build:
        return None
    path = os.path.join(build, 'tools', 'nwfilter')
    return path if os.access(path, os.X_OK) else None


def tool_missing_commands(tool, wanted):
    """The subcommands in WANTED that the tool's --help does not list, or
    all of them when there is no tool. The tool is written in parallel with
    these tests, so its commands may not exist yet."""
    if tool is None:
        return list(wanted)
    res = subprocess.run([tool, '--help'], capture_output=True, text=True)
    listed = {line.split()[0] for line in res.stdout.splitlines()
              if line.startswith('  ') and line.split()}
    return [c for c in wanted if c not in listed]


def run_tool(tool, *args, stdin=None):
    return subprocess.run([tool, *args], capture_output=True, text=True,
                          input=stdin, timeout=60)
