"""Stylesheets checked like code, and the rule behind a look.

WeasyPrint forgives a broken stylesheet: a missing ``;`` swallows the next declaration into the
value of the one before (tick boxes and box borders silently vanish), and a missing ``}`` folds
the rest of the file into one rule without a word. ``lint`` finds both, with their lines, before
a sheet is trusted; every other parse error WeasyPrint reports itself (see pipeline).

``rule_setting`` answers the other question a designer asks when the paper check refuses a
sheet: which rule, in which file and on which line, gives this element that look? It matches
the stylesheets' selectors against the laid-out element with cssselect2 (the selector engine
WeasyPrint itself uses) and follows the cascade: importance, then specificity, then order.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import cssselect2
import tinycss2


@dataclass(frozen=True)
class Problem:
    """Something wrong in a stylesheet, at its line."""

    path: str  # as the project names it: styles/tokens.css
    line: int
    message: str


@dataclass(frozen=True)
class Declaration:
    """One declaration of a style rule, where it is written."""

    path: str
    line: int
    selector: str
    name: str
    value: str
    important: bool


def lint(path: str, css: bytes) -> list[Problem]:
    """Unbalanced braces and declarations that swallowed the next one (a missing ``;``)."""
    return list(_lint(path, css))


@functools.lru_cache(maxsize=64)
def _lint(path: str, css: bytes) -> tuple[Problem, ...]:
    text = css.decode("utf-8", "replace")
    problems = _unbalanced_braces(path, text)
    if problems:  # the rules cannot be read reliably until the braces match
        return tuple(problems)
    return tuple(_swallowed_declarations(path, text))


def _unbalanced_braces(path: str, text: str) -> list[Problem]:
    """A ``}`` with no ``{`` before it, or a ``{`` never closed (comments and strings skipped)."""
    opened: list[int] = []
    closed = 0  # the line of the last '}' that closed a rule at the top level
    # tinycss2 closes an unclosed block at the end of the file without a word, so the braces
    # are counted on the text itself, skipping comments and strings.
    line, index, quote = 1, 0, None
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote or char == "\n":
                quote = None
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            end = len(text) if end < 0 else end + 2
            line += text.count("\n", index, end)
            index = end
            continue
        elif char in "\"'":
            quote = char
        elif char == "{":
            opened.append(line)
        elif char == "}":
            if not opened:
                early = f" (did the '}}' on line {closed} end its rule too soon?)" if closed else ""
                return [Problem(path, line, f"found '}}' with no '{{' before it; expected the "
                                            f"braces of each rule to match{early}")]
            opened.pop()
            closed = line if not opened else closed
        line += char == "\n"
        index += 1
    if opened:
        return [Problem(path, opened[-1], "this '{' is never closed; expected a '}' at the end of "
                                          "its rule (everything after it was read as part of it)")]
    return []


def _swallowed_declarations(path: str, text: str) -> list[Problem]:
    """``color: red  background: blue``: a name and a colon inside a value mean a lost ``;``."""
    problems = []
    for rule in _rules(text):
        for declaration in _declarations(rule):
            tokens = [t for t in declaration.value if t.type not in ("whitespace", "comment")]
            for first, second in zip(tokens, tokens[1:]):
                if first.type == "ident" and second == ":":
                    problems.append(Problem(path, first.source_line,
                                            f"expected ';' before '{first.value}:' (the "
                                            f"declaration of {declaration.name} above goes on "
                                            f"into it, and both are lost)"))
                    break
    return problems


def _rules(text: str):
    """Every qualified rule and at-rule with a block, nested ones included."""
    pending = list(tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True))
    while pending:
        rule = pending.pop(0)
        if rule.type in ("qualified-rule", "at-rule") and rule.content is not None:
            yield rule
            if rule.type == "at-rule" and rule.lower_at_keyword in ("media", "supports"):
                pending[:0] = tinycss2.parse_rule_list(rule.content, skip_comments=True,
                                                       skip_whitespace=True)


def _declarations(rule):
    content = tinycss2.parse_blocks_contents(rule.content, skip_comments=True, skip_whitespace=True)
    for item in content:
        if item.type == "declaration":
            yield item
        elif item.type in ("at-rule", "qualified-rule") and item.content is not None:
            yield from _declarations(item)  # @top-left { ... } inside @page, nested rules


@functools.lru_cache(maxsize=16)
def _compiled(stylesheets: tuple[tuple[str, bytes], ...]) -> tuple:
    """(compiled selector, declaration) for every declaration of every style rule, in order."""
    found = []
    for path, css in stylesheets:
        for rule in _rules(css.decode("utf-8", "replace")):
            if rule.type != "qualified-rule":
                continue
            selector_text = tinycss2.serialize(rule.prelude).strip()
            try:
                selectors = cssselect2.compile_selector_list(rule.prelude)
            except cssselect2.SelectorError:
                continue  # WeasyPrint reports it; nothing to match here
            for item in tinycss2.parse_blocks_contents(rule.content, skip_comments=True,
                                                       skip_whitespace=True):
                if item.type != "declaration":
                    continue
                declaration = Declaration(path, item.source_line, selector_text, item.lower_name,
                                          tinycss2.serialize(item.value).strip(), item.important)
                found.extend((selector, declaration) for selector in selectors)
    return tuple(found)


class Cascade:
    """The rules of one sheet's stylesheets, matched against the elements of its layout."""

    def __init__(self, stylesheets: tuple[tuple[str, bytes], ...], root):
        self.stylesheets = tuple(stylesheets)
        # Laid-out elements keep no parent links; cssselect2's wrappers do.
        wrapper = cssselect2.ElementWrapper.from_html_root(root)
        self._wrappers = {id(w.etree_element): w for w in wrapper.iter_subtree()}

    def rule_setting(self, element, names, pseudo: str | None = None) -> Declaration | None:
        """The declaration that wins the cascade for any of ``names`` on ``element``, or None
        when no stylesheet sets them there."""
        wrapper = self._wrappers.get(id(element))
        if wrapper is None:
            return None
        best, best_key = None, None
        for order, (selector, declaration) in enumerate(_compiled(self.stylesheets)):
            if declaration.name in names and selector.pseudo_element == pseudo \
                    and selector.test(wrapper):
                key = (declaration.important, selector.specificity, order)
                if best_key is None or key > best_key:
                    best, best_key = declaration, key
        return best

    def rule_behind(self, element, names, pseudo: str | None = None) -> Declaration | None:
        """The declaration of ``names`` on ``element`` or, failing that, on its nearest
        ancestor that has one: what gives the element its look."""
        wrapper = self._wrappers.get(id(element))
        while wrapper is not None:
            if found := self.rule_setting(wrapper.etree_element, names, pseudo):
                return found
            wrapper, pseudo = wrapper.parent, None
        return None

    def page_rules(self, name: str) -> list[Declaration]:
        """Every declaration of ``name`` in an ``@page`` rule, in order (``size``, say)."""
        found = []
        for path, css in self.stylesheets:
            for rule in _rules(css.decode("utf-8", "replace")):
                if rule.type == "at-rule" and rule.lower_at_keyword == "page":
                    found += [Declaration(path, item.source_line, "@page", name,
                                          tinycss2.serialize(item.value).strip(), item.important)
                              for item in tinycss2.parse_blocks_contents(
                                  rule.content, skip_comments=True, skip_whitespace=True)
                              if item.type == "declaration" and item.lower_name == name]
        return found
