"""Reading a page's HTML as elements, the way a browser does, for tests that check structure.

    row = one(html, f"tr#member-{user.public_id}")     # exactly one, or the test fails
    [cell.text for cell in select(html, "tbody td")]    # text: decoded, whitespace collapsed
    one(html, "#new-key-secret")["value"]               # attributes, entities decoded
    table_rows(html, column="Action")[0]["Action"].text  # a table as {heading: cell} rows
    field_value(find_form(html, action="/t/acme/settings"), "name")
    row.html                                            # the element's own markup, as sent

Selectors are the part of CSS these tests need: ``tag``, ``#id``, ``.class``, ``[attr]``,
``[attr=value]`` (also ``^=``, ``$=``, ``*=``), compounded (``th[scope=row]``) and joined by
descendant (space) or child (``>``) combinators. Built on the standard library's
``html.parser``, so it needs no package. (Named ``markup`` so as not to shadow ``html``.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements that never have content or an end tag.
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"}
)  # fmt: skip
# An open element of the key's kind ends where one of these starts (HTML's optional end tags).
CLOSED_BY = {
    "p": frozenset(["p", "div", "form", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"]),
    "li": frozenset(["li"]),
    "option": frozenset(["option", "optgroup"]),
    "td": frozenset(["td", "th", "tr"]),
    "th": frozenset(["td", "th", "tr"]),
    "tr": frozenset(["tr"]),
}
# Text a person doesn't read.
UNREAD = frozenset(["script", "style", "template"])


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = field(default=None, repr=False)
    children: list[Element | str] = field(default_factory=list, repr=False)
    source: str = field(default="", repr=False)
    start: int = field(default=0, repr=False)
    end: int = field(default=0, repr=False)

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    @property
    def text(self) -> str:
        """The text a person reads in it: entities decoded, whitespace collapsed."""
        return " ".join("".join(self._texts()).split())

    @property
    def html(self) -> str:
        """The element's markup exactly as the page has it, start tag to end tag."""
        return self.source[self.start : self.end]

    def elements(self) -> Iterator[Element]:
        """Every element inside this one, in document order."""
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.elements()

    def select(self, selector: str) -> list[Element]:
        return _select(self, selector)

    def one(self, selector: str) -> Element:
        return one(self, selector)

    def _texts(self) -> Iterator[str]:
        for child in self.children:
            if isinstance(child, str):
                yield child
            elif child.tag not in UNREAD:
                yield from child._texts()


Markup = str | Element


def parse(html: str) -> Element:
    """The document as a tree under a root element with the tag ``#document``."""
    parser = _TreeBuilder(html)
    parser.feed(html)
    parser.close()
    return parser.finish()


def select(markup: Markup, selector: str) -> list[Element]:
    """Every element under ``markup`` matching ``selector``, in document order."""
    return _select(_root(markup), selector)


def one(markup: Markup, selector: str) -> Element:
    """The one element matching ``selector``; fails the test if there are none or several."""
    found = select(markup, selector)
    assert len(found) == 1, f"{len(found)} elements match {selector!r}, not one"
    return found[0]


def text_of(markup: Markup, selector: str | None = None) -> str:
    """The text of ``markup`` (or of its one element matching ``selector``)."""
    element = _root(markup) if selector is None else one(markup, selector)
    return element.text


def find_form(markup: Markup, action: str | None = None, **attrs: str) -> Element:
    """The one form posting to ``action`` (and having ``attrs``, e.g. ``id="…"``)."""
    forms = [
        form
        for form in select(markup, "form")
        if (action is None or form.get("action") == action)
        and all(form.get(name.replace("_", "-")) == value for name, value in attrs.items())
    ]
    assert len(forms) == 1, f"{len(forms)} forms match action={action!r} {attrs}, not one"
    return forms[0]


def field_value(form: Element, name: str) -> str | None:
    """What the form would send for the field ``name`` (``None`` if it would send nothing)."""
    fields = [e for e in form.elements() if e.get("name") == name]
    assert fields, f"no field named {name!r} in the form"
    element = fields[0]
    if element.tag == "textarea":  # as a browser reads it: newlines as \n, the first dropped
        text = "".join(c for c in element.children if isinstance(c, str))
        return text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\n")
    if element.tag == "select":
        options = element.select("option")
        chosen = [o for o in options if "selected" in o.attrs] or options[:1]
        return _option_value(chosen[0]) if chosen else None
    if element.get("type") in ("checkbox", "radio"):
        checked = [e for e in fields if "checked" in e.attrs]
        return checked[0].get("value", "on") if checked else None
    return element.get("value", "")


def table_rows(markup: Markup, column: str | None = None) -> list[dict[str, Element]]:
    """The body rows of the one table (having a column headed ``column``), top to bottom,
    each as ``{heading: cell}``; a cell's ``parent`` is its row."""
    if isinstance(markup, Element) and markup.tag == "table":
        tables = [markup]
    else:
        tables = [t for t in select(markup, "table") if column is None or column in _headings(t)]
    assert len(tables) == 1, f"{len(tables)} tables with a column {column!r}, not one"
    headings = _headings(tables[0])
    return [dict(zip(headings, _cells(row), strict=True)) for row in tables[0].select("tbody > tr")]


def _headings(table: Element) -> list[str]:
    return [cell.text for row in table.select("thead > tr") for cell in _cells(row)]


def _cells(row: Element) -> list[Element]:
    return [c for c in row.children if isinstance(c, Element) and c.tag in ("td", "th")]


def options(select_element: Element) -> list[str]:
    """The values a ``<select>`` offers, in order."""
    return [_option_value(option) for option in select_element.select("option")]


def _option_value(option: Element) -> str:
    value = option.get("value")
    return option.text if value is None else value


def _root(markup: Markup) -> Element:
    return parse(markup) if isinstance(markup, str) else markup


class _TreeBuilder(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.root = Element("#document", {}, source=source, end=len(source))
        self.open = [self.root]

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self._offset()
        while self.open[-1].tag in CLOSED_BY and tag in CLOSED_BY[self.open[-1].tag]:
            self._close(start)
        element = self._add(tag, attrs, start)
        if tag in VOID:
            element.end = start + len(self.get_starttag_text() or "")
        else:
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self._offset()
        element = self._add(tag, attrs, start)
        element.end = start + len(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if not any(element.tag == tag for element in self.open[1:]):
            return  # a stray end tag: browsers ignore it too
        start = self._offset()
        while self.open[-1].tag != tag:
            self._close(start)
        self._close(self.source.index(">", start) + 1)

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)

    def finish(self) -> Element:
        while len(self.open) > 1:
            self._close(len(self.source))
        return self.root

    def _add(self, tag: str, attrs: list[tuple[str, str | None]], start: int) -> Element:
        parent = self.open[-1]
        element = Element(
            tag,
            {name: "" if value is None else value for name, value in attrs},
            parent=parent,
            source=self.source,
            start=start,
        )
        parent.children.append(element)
        return element

    def _close(self, end: int) -> None:
        self.open.pop().end = end


# --- selectors -------------------------------------------------------------------------

_COMPOUND = re.compile(
    r"""(?P<tag>[a-zA-Z][\w-]*|\*)
      | \#(?P<id>[\w-]+)
      | \.(?P<cls>[\w-]+)
      | \[\s*(?P<attr>[\w:-]+)\s*(?:(?P<op>[\^$*]?=)\s*
            (?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\]\s]+)))?\s*\]""",
    re.X,
)
_TOKEN = re.compile(r"""\s*(>)\s*|\s+|((?:[^\s>\["']|\[[^\]]*\])+)""")


_OPERATORS = {
    None: lambda actual, value: True,
    "=": lambda actual, value: actual == value,
    "~=": lambda actual, value: value in actual.split(),
    "^=": lambda actual, value: actual.startswith(value),
    "$=": lambda actual, value: actual.endswith(value),
    "*=": lambda actual, value: value in actual,
}


@dataclass
class _Compound:
    tag: str | None = None
    checks: list[tuple[str, str | None, str]] = field(default_factory=list)

    def matches(self, element: Element) -> bool:
        if self.tag not in (None, "*") and element.tag != self.tag:
            return False
        return all(
            name in element.attrs and _OPERATORS[op](element.attrs[name], value)
            for name, op, value in self.checks
        )


def _parse_compound(text: str) -> _Compound:
    compound = _Compound()
    position = 0
    while position < len(text):
        match = _COMPOUND.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"can't read selector part {text[position:]!r}")
        if match["tag"]:
            compound.tag = match["tag"].lower()
        elif match["id"]:
            compound.checks.append(("id", "=", match["id"]))
        elif match["cls"]:
            compound.checks.append(("class", "~=", match["cls"]))
        else:
            value = match["dq"] if match["dq"] is not None else match["sq"]
            value = value if value is not None else match["bare"]
            compound.checks.append((match["attr"], match["op"], value or ""))
        position = match.end()
    return compound


def _parse_selector(selector: str) -> list[tuple[str, _Compound]]:
    """``[(combinator, compound), …]`` where the combinator joins it to the one before."""
    steps: list[tuple[str, _Compound]] = []
    combinator = " "
    for match in _TOKEN.finditer(selector.strip()):
        if match[1]:
            combinator = ">"
        elif match[2]:
            steps.append((combinator, _parse_compound(match[2])))
            combinator = " "
    if not steps:
        raise ValueError(f"empty selector {selector!r}")
    return steps


def _select(root: Element, selector: str) -> list[Element]:
    steps = _parse_selector(selector)
    return [e for e in root.elements() if _matches(e, steps, len(steps) - 1, root)]


def _matches(element: Element, steps, index: int, root: Element) -> bool:
    combinator, compound = steps[index]
    if not compound.matches(element):
        return False
    if index == 0:
        return True
    ancestor = element.parent
    if combinator == ">":
        return (
            ancestor is not None
            and ancestor is not root
            and _matches(ancestor, steps, index - 1, root)
        )
    while ancestor is not None and ancestor is not root:
        if _matches(ancestor, steps, index - 1, root):
            return True
        ancestor = ancestor.parent
    return False
