"""The rule for translatable messages, as a check over C sources.

User-facing messages are the errors a person reads: the message argument of
nwf_error_set(), nwf_error_set_firewall(), nwf_error_set_literal(),
g_set_error(), g_set_error_literal(), g_printerr() and fprintf(stderr, ...). Every string literal with a letter in
that argument or in the values substituted into it (also inside a ?: or a
concatenation) must be wrapped in _(), or in N_() where the string is
translated later. Literals without letters ("%s", "%s: %s\\n") pass, and so
do non-literal values (names, paths, numbers) and one-word literal values
("IPv6"). Log messages (g_debug, g_info, g_message, g_warning) go to the
journal and are not translated, as in libvirt."""
import re

# Call name -> index of the message argument (0-based).
MESSAGE_ARG = {
    'nwf_error_set': 2,
    'nwf_error_set_firewall': 2,
    'nwf_error_set_literal': 2,
    'g_set_error': 3,
    'g_set_error_literal': 3,
    'g_printerr': 0,
    'fprintf': 1,
}
CALL_RE = re.compile(r'\b(' + '|'.join(MESSAGE_ARG) + r')\s*\(')
MARK_RE = re.compile(r'(?<![A-Za-z0-9_])N?_\(')
LITERAL_RE = re.compile(r'"(?:[^"\\]|\\.)*"')
CONVERSION_RE = re.compile(r'%[-+ #0-9.]*(?:hh|h|ll|l|z|j|t)?[a-zA-Z]')


def skip_quoted(text, i):
    """Index just past the string or character literal starting at I."""
    j = i + 1
    while j < len(text) and text[j] != text[i]:
        j += 2 if text[j] == '\\' else 1
    return j + 1


def strip_comments(text):
    """Blank out comments, keeping literals, offsets and line numbers."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith('/*', i) or text.startswith('//', i):
            end = text.find('*/', i + 2) + 2 if text[i + 1] == '*' else text.find('\n', i)
            end = n if end < i + 2 else end
            out.append(re.sub(r'[^\n]', ' ', text[i:end]))
            i = end
        elif text[i] in '"\'':
            j = skip_quoted(text, i)
            out.append(text[i:j])
            i = j
        else:
            out.append(text[i])
            i += 1
    return ''.join(out)


def split_args(text, start):
    """(arguments, end): the top-level arguments of the call whose '(' is
    just before START, and the index just past its ')'."""
    args, cur, depth, i = [], [], 0, start
    while i < len(text):
        c = text[i]
        if c in '"\'':
            j = skip_quoted(text, i)
            cur.append(text[i:j])
            i = j
            continue
        if c in '([{':
            depth += 1
        elif c in ')]}':
            if depth == 0:
                args.append(''.join(cur).strip())
                return args, i + 1
            depth -= 1
        elif c == ',' and depth == 0:
            args.append(''.join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    return args, i


def without_marked(arg):
    """ARG with every _(...) and N_(...) group removed."""
    while True:
        m = MARK_RE.search(arg)
        if not m:
            return arg
        _, end = split_args(arg, m.end())
        arg = arg[:m.start()] + arg[end:]


def is_message_text(literal):
    bare = CONVERSION_RE.sub('', re.sub(r'\\.', '', literal))
    return re.search(r'[A-Za-z]', bare) is not None


def unmarked_messages(text):
    """(line, call, argument) for each message literal not wrapped in _()."""
    text = strip_comments(text)
    found = []
    for m in CALL_RE.finditer(text):
        name = m.group(1)
        args, _ = split_args(text, m.end())
        if name == 'fprintf' and (not args or args[0] != 'stderr'):
            continue
        # The message, and what is substituted into it: a phrase there is
        # text for the reader too (e.g. the usage line of "error: %s"),
        # a single word ("IPv6") is a name.
        for pos, arg in enumerate(args[MESSAGE_ARG[name]:]):
            lits = LITERAL_RE.findall(without_marked(arg))
            if any(is_message_text(lit) and (pos == 0 or ' ' in lit) for lit in lits):
                found.append((text.count('\n', 0, m.start()) + 1, name, arg))
    return found


def has_marked_strings(text):
    return re.search(MARK_RE.pattern + r'\s*"', strip_comments(text)) is not None


# Command-line help: GOption translates an entry's description and argument
# placeholder, and a context's parameter string, summary and description,
# through the translation domain set on the context; the literals are marked
# N_(). nwf_tool_program_parse() passes its summary and --backend help on.
HELP_CALL_ARG = {
    'g_option_context_new': (0,),
    'g_option_context_set_summary': (1,),
    'g_option_context_set_description': (1,),
    'nwf_tool_program_parse': (2, 3),
}
HELP_CALL_RE = re.compile(r'\b(' + '|'.join(HELP_CALL_ARG) + r')\s*\(')
ENTRY_RE = re.compile(r'\{\s*"[a-z0-9-]+"\s*,')


def unmarked_help(text):
    """(line, what, literal) for each unmarked help text, plus one finding
    per option context created without a translation domain."""
    text = strip_comments(text)
    found = []

    def check(pos, what, arg):
        if any(is_message_text(lit) for lit in LITERAL_RE.findall(without_marked(arg))):
            found.append((text.count('\n', 0, pos) + 1, what, arg))

    for m in HELP_CALL_RE.finditer(text):
        args, _ = split_args(text, m.end())
        for idx in HELP_CALL_ARG[m.group(1)]:
            if idx < len(args):
                check(m.start(), m.group(1), args[idx])
    for m in ENTRY_RE.finditer(text):
        fields, _ = split_args(text, m.start() + 1)
        if len(fields) == 7 and fields[3].startswith('G_OPTION_ARG_'):
            check(m.start(), 'option description', fields[5])
            # A placeholder (FILE, NAME=VALUE) is a word to translate; a
            # list of literal values ("in|out") is not.
            if re.fullmatch(r'"[A-Z][A-Z_=.]*"', fields[6]):
                check(m.start(), 'option argument', fields[6])
    # The nwfilter tool's command table: { "name", nwf_cmd_name, summary }.
    for m in re.finditer(r'\bnwf_cmd_\w+\s*,\s*("(?:[^"\\]|\\.)*")', text):
        check(m.start(), 'command summary', m.group(1))
    contexts = len(re.findall(r'\bg_option_context_new\s*\(', text))
    domains = len(re.findall(r'\bg_option_context_set_translation_domain\s*\(', text))
    if domains < contexts:
        found.append((0, 'g_option_context_new',
                      f'{contexts} option contexts, {domains} with a translation domain'))
    return found
