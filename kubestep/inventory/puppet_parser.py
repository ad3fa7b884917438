"""A tokenizer-level Puppet reader: resources, their attributes, blocks and variables.

Not a Puppet implementation: conditionals and functions are not evaluated. It finds every
`type { 'title': attr => value }` wherever it sits, notes the class, define or node around it
(and what that block includes), and stops at the first broken token with the line number. A
value it cannot know without Puppet (a fact, a lookup(), an expression) is an `Unresolved`,
never text that looks real.
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
_INTERPOLATION = re.compile(r"\$\{((?:::)?[\w:]+)\}|\$\{[^}]*\}|\$((?:::)?[a-z_][\w:]*)")
# After a value, these mean it was only the start of an expression we do not evaluate.
_OPERATORS = {"?", "+", "-", "*", "/", "==", "!=", "=~", "<", ">", "and", "or", "in", ".", "["}


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


@dataclass(frozen=True)
class Unresolved:
    """A value only Puppet could compute ($facts[...], lookup(), a selector): its text."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Block:
    """A class, define or node body; 'top' is what a file declares outside any of them."""

    kind: str
    name: str
    line: int
    includes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass
class Resource:
    type: str
    title: Any
    line: int
    attributes: dict[str, Any] = field(default_factory=dict)
    block: Block | None = None


@dataclass
class Manifest:
    classes: list[tuple[str, int]] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
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
        self.top = Block("top", "", 1)
        self.scopes: list[tuple[Block, int]] = []  # open blocks and their closing brace

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

    @property
    def block(self) -> Block:
        while self.scopes and self.scopes[-1][1] < self.index:
            self.scopes.pop()
        return self.scopes[-1][0] if self.scopes else self.top

    def run(self) -> None:
        while self.peek() is not None:
            block = self.block
            token = self.next()
            following = self.peek()
            if token.kind == "word" and token.text in ("class", "define") and following:
                if following.kind == "word":
                    self.manifest.classes.append((following.text.lstrip(":"), token.line))
                    self._open(token.text, following.text.lstrip(":"), token.line)
                elif following.text == "{":  # class { 'name': ... } declares a class
                    title = self.peek(1)
                    if title is not None and title.kind in ("sq", "dq", "word"):
                        block.includes.append(title.text.strip("'\"").lstrip(":"))
            elif token.kind == "word" and token.text == "node":
                self._open_node(token.line)
            elif token.kind == "word" and token.text in ("include", "contain", "require"):
                self._includes(block)
            elif token.kind == "var" and following and following.text == "=":
                self.index += 1
                self._assignment(token)
            elif self._starts_resource(token):
                self._resource(token, block)
        if any(resource.block is self.top for resource in self.manifest.resources):
            self.manifest.blocks.insert(0, self.top)

    def _open(self, kind: str, name: str, line: int) -> None:
        """Enter a class or define body: past its parameters, up to the matching brace."""
        position = self.index + 1
        depth = 0
        while position < len(self.tokens):
            text = self.tokens[position].text
            if text == "(" and self.tokens[position].kind == "op":
                depth += 1
            elif text == ")" and self.tokens[position].kind == "op":
                depth -= 1
            elif text == "{" and depth == 0:
                break
            position += 1
        if position < len(self.tokens):
            block = Block(kind, name, line)
            self.manifest.blocks.append(block)
            self.scopes.append((block, _matching_brace(self.tokens, position)))

    def _open_node(self, line: int) -> None:
        names, position = [], self.index
        while position < len(self.tokens) and self.tokens[position].text != "{":
            token = self.tokens[position]
            if token.kind in ("sq", "dq", "word"):
                names.append(token.text.strip("'\""))
            position += 1
        if position < len(self.tokens):
            block = Block("node", ", ".join(names) or "default", line)
            self.manifest.blocks.append(block)
            self.scopes.append((block, _matching_brace(self.tokens, position)))

    def _includes(self, block: Block) -> None:
        """include a, b / include('a') / contain ::a: the classes a block pulls in."""
        if (token := self.peek()) is not None and token.text == "(":
            self.next()
        while (token := self.peek()) is not None:
            if token.kind not in ("sq", "dq", "word") or token.text in _KEYWORDS:
                if token.text == ")":
                    self.next()
                return
            block.includes.append(token.text.strip("'\"").lstrip(":"))
            self.next()
            if (following := self.peek()) is None or following.text != ",":
                if following is not None and following.text == ")":
                    self.next()
                return
            self.next()

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
            depth = 0
            while position < len(self.tokens):
                token = self.tokens[position]
                depth += {"[": 1, "]": -1}.get(token.text, 0) if token.kind == "op" else 0
                if depth == 0:
                    break
                position += 1
        elif title.kind not in ("sq", "dq", "var", "word", "num"):
            return False
        after = position + 1
        return after < len(self.tokens) and self.tokens[after].text == ":"

    def _assignment(self, name: Token) -> None:
        # An expression we do not evaluate leaves the variable unknown, never half-known.
        key = _variable(name.text)
        self.manifest.variables[key] = Unresolved(name.text)
        with contextlib.suppress(PuppetSyntaxError):
            value = self._value()
            following = self.peek()
            if following is not None and following.text in _OPERATORS:
                value = Unresolved(name.text)
            self.manifest.variables[key] = value

    def _resource(self, kind: Token, block: Block) -> None:
        start = self.index
        self.next()  # '{'
        try:
            while True:
                title = self._value()
                self._expect(":")
                resource = Resource(kind.text, title, kind.line, block=block)
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
            text = token.text
            while (following := self.peek()) is not None and following.text == "[":
                self.next()
                text += f"[{', '.join(map(str, self._sequence(']')))}]"
            value = self.manifest.variables.get(_variable(token.text))
            if text != token.text or value is None or _is_fact(token.text):
                return Unresolved(text)
            return value
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

    def _interpolate(self, text: str) -> str | Unresolved:
        """Variables known in this manifest are substituted; any other makes it Unresolved."""
        unknown = False

        def replace(match: re.Match[str]) -> str:
            nonlocal unknown
            name = match.group(1) or match.group(2)
            value = (
                None
                if name is None or _is_fact(name)
                else self.manifest.variables.get(_variable(name))
            )
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value)
            unknown = True
            return match.group(0)

        result = _INTERPOLATION.sub(replace, text.replace('\\"', '"'))
        return Unresolved(f'"{result}"') if unknown else result


def _is_fact(name: str) -> bool:
    """$facts, $::fqdn, $trusted: values of the node being configured, unknown here."""
    bare = name.lstrip("$")
    return bare.split("[", 1)[0] in ("facts", "trusted", "server_facts") or (
        bare.startswith("::") and "::" not in bare[2:]
    )


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
