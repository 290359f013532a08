"""The XML examples of the documentation: every `.. code-block:: xml`
block of docs/*.rst, in file order."""
import pathlib
import textwrap


def iter_examples(docs_dir):
    """Yield (file name, line number, text) for each XML block."""
    for path in sorted(pathlib.Path(docs_dir).glob('*.rst')):
        lines = path.read_text(encoding='utf-8').split('\n')
        i = 0
        while i < len(lines):
            if lines[i].strip() != '.. code-block:: xml':
                i += 1
                continue
            start = i + 1
            i += 1
            # Directive options and the blank line before the body.
            while i < len(lines) and lines[i].strip().startswith(':'):
                i += 1
            body = []
            while i < len(lines) and (lines[i].strip() == '' or lines[i].startswith(' ')):
                body.append(lines[i])
                i += 1
            text = textwrap.dedent('\n'.join(body)).strip('\n') + '\n'
            yield path.name, start, text
