"""A tokenizer-level Puppet reader: resources, their attributes, class names and variables.

Not a Puppet implementation: conditionals and functions are not evaluated. It finds every
`type { 'title': attr => value }` wherever it sits, which is what an inventory needs, and
stops at the first broken token with the line number.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r"""(?P<space>[ \t\r]+)|(?P<newline>\n)|(?P<comment>\#[^\n]*|/\*.*?\*/)
    |(?P<sq>'(?:\\.|[^'\\])*')|(?P<dq>"(?:\\.|[^"\\])*")
    |(?P<var>\$(?:::)?[a-z_]\w*(?:::\w+)*)
    |(?P<num>\d+(?:\.\d+)?)|(?P<word>(?:::)?[A-Za-z_][\w-]*(?:::[\w-]+)*)
    |(?P<op>=>|\+>|->|~>|<-|<~|==|!=|=~|>=|<=|[{}\[\](),:;=?|<>!+*/%@.-])
    |(?P<quote>['"])|(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
_KEYWORDS = {
    "if",
    "elsif",
    "else",
    "unless",
    "case",
    "class",
    "define",
    "node",
    "inherits",
    "and",
    "or",
    "in",
    "default",
    "undef",
    "true",
    "false",
    "function",
    "type",
}
_INTERPOLATION = re.compile(r"\$\{(?:::)?([\w:]+)\}|\$(?:::)?([a-z_][\w:]*)")


class PuppetSyntaxError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class Token:
    kind: str
    text: str
    line: int


@dataclass
class Call:
    """A function call value such as template('mod/file.erb')."""

    name: str
    args: list[Any]


@dataclass
class Resource:
    type: str
    title: Any
    line: int
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Manifest:
    classes: list[tuple[str, int]] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    errors: list[PuppetSyntaxError] = field(default_factory=list)


def tokenize(text: str) -> list[Token]:
    tokens, line, position = [], 1, 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup == "quote":
            raise PuppetSyntaxError(line, "unterminated string")
        kind = match.lastgroup or ""
        if kind in ("sq", "dq", "var", "num", "word", "op", "other"):
            tokens.append(Token("op" if kind == "other" else kind, match.group(), line))
        line += match.group().count("\n")
        position = match.end()
    return tokens


def parse(text: str) -> Manifest:
    """Everything readable in text; a broken resource is recorded in errors and skipped."""
    manifest = Manifest()
    try:
        tokens = tokenize(text)
    except PuppetSyntaxError as error:
        manifest.errors.append(error)
        return manifest
    _check_braces(tokens, manifest)
    _Parser(tokens, manifest).run()
    return manifest


def _check_braces(tokens: list[Token], manifest: Manifest) -> None:
    stack: list[Token] = []
    for token in tokens:
        if token.text in "{[(" and token.kind == "op":
            stack.append(token)
        elif token.text in "}])" and token.kind == "op":
            if not stack:
                manifest.errors.append(PuppetSyntaxError(token.line, f"unmatched {token.text!r}"))
                return
            stack.pop()
    if stack:
        manifest.errors.append(PuppetSyntaxError(stack[-1].line, f"{stack[-1].text!r} not closed"))


class _Parser:
    def __init__(self, tokens: list[Token], manifest: Manifest) -> None:
        self.tokens, self.manifest, self.index = tokens, manifest, 0

    def peek(self, offset: int = 0) -> Token | None:
        index = self.index + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            last = self.tokens[-1].line if self.tokens else 1
            raise PuppetSyntaxError(last, "unexpected end of file")
        self.index += 1
        return token

    def run(self) -> None:
        while self.peek() is not None:
            token = self.next()
            following = self.peek()
            if token.kind == "word" and token.text in ("class", "define") and following:
                if following.kind == "word":
                    self.manifest.classes.append((following.text.lstrip(":"), token.line))
            elif token.kind == "var" and following and following.text == "=":
                self.index += 1
                self._assignment(token)
            elif self._starts_resource(token):
                self._resource(token)

    def _starts_resource(self, token: Token) -> bool:
        brace = self.peek()
        return (
            token.kind == "word"
            and token.text[0].islower()
            and token.text not in _KEYWORDS
            and brace is not None
            and brace.text == "{"
            and self._title_colon_follows()
        )

    def _title_colon_follows(self) -> bool:
        """A resource body starts with a title and ':'; a hash or a block does not."""
        position = self.index + 1  # just after '{'
        title = self.tokens[position] if position < len(self.tokens) else None
        if title is None:
            return False
        if title.text == "[" and title.kind == "op":
            while position < len(self.tokens) and self.tokens[position].text != "]":
                position += 1
        elif title.kind not in ("sq", "dq", "var", "word", "num"):
            return False
        after = position + 1
        return after < len(self.tokens) and self.tokens[after].text == ":"

    def _assignment(self, name: Token) -> None:
        # An expression we do not evaluate leaves the variable unknown.
        with contextlib.suppress(PuppetSyntaxError):
            self.manifest.variables[_variable(name.text)] = self._value()

    def _resource(self, kind: Token) -> None:
        start = self.index
        self.next()  # '{'
        try:
            while True:
                title = self._value()
                self._expect(":")
                resource = Resource(kind.text, title, kind.line)
                self._attributes(resource)
                self.manifest.resources.append(resource)
                closing = self.next()
                if closing.text == "}":
                    return
                if self.peek() and self.peek().text == "}":  # type: ignore[union-attr]
                    self.next()
                    return
        except PuppetSyntaxError as error:
            self.manifest.errors.append(error)
            self.index = _matching_brace(self.tokens, start) + 1

    def _attributes(self, resource: Resource) -> None:
        while (token := self.peek()) is not None and token.text not in (";", "}"):
            name = self.next()
            if name.kind != "word" and name.text != "*":
                raise PuppetSyntaxError(name.line, f"expected an attribute name, got {name.text!r}")
            arrow = self.next()
            if arrow.text not in ("=>", "+>"):
                raise PuppetSyntaxError(
                    arrow.line, f"expected '=>' after {name.text!r}, got {arrow.text!r}"
                )
            resource.attributes[name.text] = self._value()
            if self.peek() and self.peek().text == ",":  # type: ignore[union-attr]
                self.next()

    def _expect(self, text: str) -> None:
        token = self.next()
        if token.text != text:
            raise PuppetSyntaxError(token.line, f"expected {text!r}, got {token.text!r}")

    def _value(self) -> Any:
        token = self.next()
        if token.kind == "sq":
            return token.text[1:-1].replace("\\'", "'").replace("\\\\", "\\")
        if token.kind == "dq":
            return self._interpolate(token.text[1:-1])
        if token.kind == "num":
            return int(token.text) if token.text.isdigit() and token.text[0] != "0" else token.text
        if token.kind == "var":
            return self.manifest.variables.get(_variable(token.text), token.text)
        if token.text == "[":
            return self._sequence("]")
        if token.kind == "word" and self.peek() and self.peek().text == "(":  # type: ignore[union-attr]
            self.next()
            return Call(token.text, self._sequence(")"))
        if token.kind == "word" and self.peek() and self.peek().text == "[":  # type: ignore[union-attr]
            self.next()
            return f"{token.text}[{', '.join(map(str, self._sequence(']')))}]"  # File['x']
        if token.kind == "word":
            return token.text
        if token.text == "{":
            self.index = _matching_brace(self.tokens, self.index - 1) + 1
            return "{...}"
        raise PuppetSyntaxError(token.line, f"unexpected {token.text!r}")

    def _sequence(self, closing: str) -> list[Any]:
        items = []
        while (token := self.peek()) is not None and token.text != closing:
            items.append(self._value())
            if self.peek() and self.peek().text == ",":  # type: ignore[union-attr]
                self.next()
        self._expect(closing)
        return items

    def _interpolate(self, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name = _variable(match.group(1) or match.group(2))
            value = self.manifest.variables.get(name)
            return str(value) if isinstance(value, str | int) else match.group(0)

        return _INTERPOLATION.sub(replace, text.replace('\\"', '"'))


def _variable(text: str) -> str:
    """'$::legacy_app::uid' and '$uid' are both 'uid' for lookups within one manifest."""
    return text.lstrip("$").rsplit("::", 1)[-1]


def _matching_brace(tokens: list[Token], start: int) -> int:
    depth = 0
    for index in range(start, len(tokens)):
        if tokens[index].text == "{" and tokens[index].kind == "op":
            depth += 1
        elif tokens[index].text == "}" and tokens[index].kind == "op":
            depth -= 1
            if depth == 0:
                return index
    return len(tokens) - 1
