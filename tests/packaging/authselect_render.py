#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Renders an authselect profile template with a set of features, by the syntax
authselect-profiles(5) documents (authselect itself is not packaged for Debian):
{continue if EXPR}, {stop if EXPR}, {include if EXPR}, {exclude if EXPR},
{imply "feature" if EXPR}, {if EXPR:text} and {if EXPR:text|other}, where EXPR is
"feature" names joined by and, or, not and parentheses. Operators are applied from the
start of the file to its end; trailing white space is trimmed from every line.
    authselect_render.py TEMPLATE [FEATURE...]   prints the rendered file
    authselect_render.py --features TEMPLATE...  prints the features the templates use"""
import re
import sys

EXPRESSION = r'[^{}|:]+'
OPERATOR = re.compile(
    r'\{(?:(?P<line>continue if|stop if|include if|exclude if) (?P<line_expr>' + EXPRESSION + r')'
    r'|imply "(?P<implied>[^{}"|]+)" if (?P<imply_expr>' + EXPRESSION + r')'
    r'|if (?P<if_expr>' + EXPRESSION + r'):(?P<if_true>[^{}|]*)(?:\|(?P<if_false>[^{}|]*))?)\}')
TOKEN = re.compile(r'\s*(?:"(?P<feature>[^"]+)"|(?P<word>and|or|not)\b|(?P<paren>[()]))')


def tokens(expression):
    position, found = 0, []
    while expression[position:].strip():
        match = TOKEN.match(expression, position)
        if not match:
            raise SystemExit(f"bad expression: {expression!r}")
        found.append(match.group('feature') and ('feature', match.group('feature'))
                     or (match.group('word') or match.group('paren'), None))
        position = match.end()
    return found


def evaluate(expression, features):
    """or binds loosest, then and, then not."""
    stream = tokens(expression)

    def take(kind):
        if stream and stream[0][0] == kind:
            return stream.pop(0)
        return None

    def primary():
        if take('not'):
            return not primary()
        if take('('):
            value = disjunction()
            if not take(')'):
                raise SystemExit(f"unbalanced parentheses: {expression!r}")
            return value
        token = take('feature')
        if token is None:
            raise SystemExit(f"bad expression: {expression!r}")
        return token[1] in features

    def conjunction():
        value = primary()
        while take('and'):
            value = primary() and value
        return value

    def disjunction():
        value = conjunction()
        while take('or'):
            value = conjunction() or value
        return value

    value = disjunction()
    if stream:
        raise SystemExit(f"bad expression: {expression!r}")
    return value


def line_bounds(text, position):
    start = text.rfind('\n', 0, position) + 1
    end = text.find('\n', position)
    return start, len(text) if end < 0 else end + 1


def render(text, features):
    features = set(features)
    position = 0
    while match := OPERATOR.search(text, position):
        start, end = match.span()
        line_start, line_end = line_bounds(text, start)
        if match.group('line'):
            operator, enabled = match.group('line'), evaluate(match.group('line_expr'), features)
            keep_line = enabled if operator in ('continue if', 'include if') else not enabled
            if operator in ('continue if', 'stop if'):
                if not keep_line:
                    return trim(text[:start])
                text, position = text[:line_start] + text[line_end:], line_start
            elif keep_line:
                text, position = text[:start] + text[end:], start
            else:
                text, position = text[:line_start] + text[line_end:], line_start
        elif match.group('implied'):
            if evaluate(match.group('imply_expr'), features):
                features.add(match.group('implied'))
            text, position = text[:line_start] + text[line_end:], line_start
        else:
            enabled = evaluate(match.group('if_expr'), features)
            replacement = match.group('if_true') if enabled else (match.group('if_false') or '')
            text, position = text[:start] + replacement + text[end:], start + len(replacement)
    return trim(text)


def trim(text):
    return '\n'.join(line.rstrip() for line in text.split('\n'))


def used_features(text):
    names = set()
    for match in OPERATOR.finditer(text):
        expression = match.group('line_expr') or match.group('imply_expr') or match.group('if_expr')
        names.update(value for kind, value in tokens(expression) if kind == 'feature')
    return names


def main(args):
    if args[:1] == ['--features']:
        names = set()
        for path in args[1:]:
            with open(path, encoding='utf-8') as template:
                names |= used_features(template.read())
        print('\n'.join(sorted(names)))
        return
    with open(args[0], encoding='utf-8') as template:
        sys.stdout.write(render(template.read(), args[1:]))


if __name__ == '__main__':
    main(sys.argv[1:])
