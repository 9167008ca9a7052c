"""Xero's list-query language: `where`, `order`, paging and `If-Modified-Since`.

`compile_where(text, fields)` turns a where expression into a predicate over records, where
`fields` maps Xero field names (`Date`, `Contact.ContactID`, ...) to getters. `date_range()`
pulls the conjunctive bounds on one field out of the expression so an organisation can answer
`Date>=DateTime(..)&&Date<DateTime(..)` from a date index instead of scanning every record.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

Getter = Callable[[Any], Any]
Predicate = Callable[[Any], bool]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_UTC = dt.timezone.utc


class QueryError(ValueError):
    """A where/order/paging/header value Xero would reject with a 400."""


# ---- where: tokens and AST -------------------------------------------------------------------

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|>=|<=|&&|\|\||[<>()!,])'
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_.]*))"
)
_METHODS = {"Contains", "StartsWith", "EndsWith"}


@dataclass(frozen=True, slots=True)
class Compare:
    field: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class Method:
    field: str
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "and" | "or"
    left: Any
    right: Any


@dataclass(frozen=True, slots=True)
class Not:
    inner: Any


class _Guid(str):
    """A Guid("...") literal; compared case-insensitively."""


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QueryError(f"cannot parse where expression {text!r} at position {pos}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def error(self, what: str) -> QueryError:
        return QueryError(f"invalid where expression {self.text!r}: {what}")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise self.error(f"expected {value or 'more input'}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        node = self.or_expr()
        extra = self.peek()
        if extra is not None:
            raise self.error(f"unexpected {extra[1]!r}")
        return node

    def or_expr(self) -> Any:
        node = self.and_expr()
        while (tok := self.peek()) and (tok[1] == "||" or tok[1].lower() == "or"):
            self.i += 1
            node = BoolOp("or", node, self.and_expr())
        return node

    def and_expr(self) -> Any:
        node = self.unary()
        while (tok := self.peek()) and (tok[1] == "&&" or tok[1].lower() == "and"):
            self.i += 1
            node = BoolOp("and", node, self.unary())
        return node

    def unary(self) -> Any:
        tok = self.peek()
        if tok and (tok[1] == "!" or tok[1].lower() == "not"):
            self.i += 1
            return Not(self.unary())
        if tok and tok[1] == "(":
            self.i += 1
            node = self.or_expr()
            self.take(")")
            return node
        return self.comparison()

    def comparison(self) -> Any:
        kind, name = self.take()
        if kind != "ident" or name.lower() in ("true", "false", "null"):
            raise self.error(f"expected a field name, got {name!r}")
        head, _, method = name.rpartition(".")
        if method in _METHODS and head and (nxt := self.peek()) and nxt[1] == "(":
            self.take("(")
            arg = self.literal()
            self.take(")")
            if not isinstance(arg, str):
                raise self.error(f"{method} takes a string")
            return Method(head, method, arg)
        tok = self.peek()
        if tok is None or tok[1] not in ("==", "!=", ">", ">=", "<", "<="):
            # A bare boolean field, e.g. `IsSupplier`.
            return Compare(name, "==", True)
        self.i += 1
        return Compare(name, tok[1], self.literal())

    def literal(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            return value[1:-1].replace('\\"', '"')
        if kind == "num":
            return Decimal(value)
        if kind == "ident":
            low = value.lower()
            if low in ("true", "false"):
                return low == "true"
            if low == "null":
                return None
            if value in ("DateTime", "DateTimeOffset"):
                return self.datetime_args()
            if value == "Guid":
                self.take("(")
                kind, raw = self.take()
                self.take(")")
                if kind != "str":
                    raise self.error("Guid takes a quoted string")
                return _Guid(raw[1:-1].lower())
        raise self.error(f"expected a value, got {value!r}")

    def datetime_args(self) -> dt.datetime:
        self.take("(")
        parts: list[int] = []
        while True:
            kind, value = self.take()
            if kind != "num":
                raise self.error("DateTime takes numbers")
            parts.append(int(value))
            if self.take()[1] == ")":
                break
        if len(parts) not in (3, 6):
            raise self.error("DateTime takes (y,m,d) or (y,m,d,h,mi,s)")
        try:
            year, month, day, hour, minute, second = (parts + [0, 0, 0])[:6]
            return dt.datetime(year, month, day, hour, minute, second, tzinfo=_UTC)
        except (ValueError, OverflowError) as exc:  # e.g. year 99999999999
            raise self.error(f"bad DateTime: {exc}") from exc


def parse_where(text: str) -> Any:
    """Parse a where expression into an AST; QueryError names the bad expression."""
    return _Parser(text).parse()


# ---- where: evaluation -----------------------------------------------------------------------

def _comparable(value: Any, literal: Any) -> tuple[Any, Any]:
    if isinstance(literal, dt.datetime):
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=_UTC), literal
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day, tzinfo=_UTC), literal
    if isinstance(literal, str) and isinstance(value, str):
        return value.lower(), literal.lower()
    if isinstance(literal, Decimal) and isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return value, literal
    return value, literal


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
}


def compile_where(text: str | None, fields: Mapping[str, Getter]) -> Predicate | None:
    """A predicate for `text` over records whose fields `fields` reads; None when no where."""
    if not text or not text.strip():
        return None
    return compile_ast(parse_where(text), fields, text)


def compile_ast(node: Any, fields: Mapping[str, Getter], text: str) -> Predicate:
    lowered = {k.lower(): v for k, v in fields.items()}

    def getter(name: str) -> Getter:
        get = lowered.get(name.lower())
        if get is None:
            raise QueryError(f"invalid where expression {text!r}: unknown field {name!r}")
        return get

    def build(n: Any) -> Predicate:
        if isinstance(n, BoolOp):
            left, right = build(n.left), build(n.right)
            if n.op == "and":
                return lambda r: left(r) and right(r)
            return lambda r: left(r) or right(r)
        if isinstance(n, Not):
            inner = build(n.inner)
            return lambda r: not inner(r)
        if isinstance(n, Method):
            get, needle = getter(n.field), n.value.lower()
            test = {"Contains": str.__contains__, "StartsWith": str.startswith,
                    "EndsWith": str.endswith}[n.name]
            return lambda r: isinstance(v := get(r), str) and test(v.lower(), needle)
        get, op, literal = getter(n.field), _OPS[n.op], n.value
        # A date field against DateTime(...): compare day ordinals with the literal as a
        # fractional ordinal, which equals comparing midnight-of-day with the instant but
        # skips building a datetime per record (month reads test ~10k records).
        lit_ord = None
        if isinstance(literal, dt.datetime):
            since_midnight = literal - literal.replace(hour=0, minute=0, second=0, microsecond=0)
            lit_ord = literal.date().toordinal() + since_midnight.total_seconds() / 86400

        def compare(r: Any) -> bool:
            value = get(r)
            if lit_ord is not None and type(value) is dt.date:
                return op(value.toordinal(), lit_ord)
            if value is None or literal is None:
                return op(value, literal) if n.op in ("==", "!=") else False
            a, b = _comparable(value, literal)
            try:
                return op(a, b)
            except TypeError:
                return False

        return compare

    return build(node)


def _next_day(day: dt.date) -> dt.date | None:
    return None if day == dt.date.max else day + dt.timedelta(days=1)


def date_range(node: Any, field: str) -> tuple[dt.date | None, dt.date | None] | None:
    """Half-open [lo, hi) date bounds on `field` implied by top-level `and` terms, or None.

    Only exact-day bounds are extracted (DateTime at midnight), which is what monthly reads use;
    the full predicate still runs on the candidates, so a loose bound never changes the answer.
    """
    lo: dt.date | None = None
    hi: dt.date | None = None
    found = False
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, BoolOp) and n.op == "and":
            stack += [n.left, n.right]
            continue
        if not (isinstance(n, Compare) and n.field.lower() == field.lower()
                and isinstance(n.value, dt.datetime)):
            continue
        day = n.value.date()
        exact = n.value.time() == dt.time(0)
        if n.op in (">=", ">"):
            # `>` still starts on that day: a later time on the same day can match.
            lo = day if lo is None else max(lo, day)
        elif n.op in ("<", "<="):
            bound = day if n.op == "<" and exact else _next_day(day)
            if bound is not None:  # after the last representable day: no upper bound
                hi = bound if hi is None else min(hi, bound)
        elif n.op == "==":
            lo = day if lo is None else max(lo, day)
            nxt = _next_day(day)
            if nxt is not None:
                hi = nxt if hi is None else min(hi, nxt)
        else:
            continue
        found = True
    return (lo, hi) if found else None


# ---- order, paging, If-Modified-Since -------------------------------------------------------

def sort_records(records: list[Any], order: str | None, fields: Mapping[str, Getter],
                 id_of: Getter, updated_of: Getter) -> list[Any]:
    """Sort by `order` ("Field [ASC|DESC], ..."), default UpdatedDateUTC ASC; ties by id."""
    keys: list[tuple[Getter, bool]] = []
    if order and order.strip():
        lowered = {k.lower(): v for k, v in fields.items()}
        for part in order.split(","):
            words = part.split()
            if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
                raise QueryError(f"invalid order {order!r}")
            get = lowered.get(words[0].lower())
            if get is None:
                raise QueryError(f"invalid order {order!r}: unknown field {words[0]!r}")
            keys.append((get, len(words) == 2 and words[1].upper() == "DESC"))
    else:
        keys.append((updated_of, False))
    result = sorted(records, key=id_of)
    for get, desc in reversed(keys):
        result.sort(key=partial(_sort_value, get), reverse=desc)
    return result


def _sort_value(get: Getter, record: Any) -> tuple[int, Any]:
    return _sort_key(get(record))


def _sort_key(value: Any) -> tuple[int, Any]:
    # None sorts first; dates and datetimes compare as datetimes so mixed fields never raise.
    if value is None:
        return (0, 0)
    if isinstance(value, dt.datetime):
        return (1, value.timestamp())
    if isinstance(value, dt.date):
        return (1, dt.datetime(value.year, value.month, value.day, tzinfo=_UTC).timestamp())
    if isinstance(value, str):
        return (2, value.lower())
    return (1, value)


def page_args(page: str | None, page_size: str | None) -> tuple[int, int] | None:
    """(page, pageSize) with pageSize clamped to 1..1000, or None when unpaged."""
    if page is None or page == "":
        return None
    try:
        number = max(1, int(page))
        size = DEFAULT_PAGE_SIZE if not page_size else int(page_size)
    except ValueError as exc:
        raise QueryError(f"page and pageSize must be integers, got {page!r}, {page_size!r}") from exc
    return number, min(MAX_PAGE_SIZE, max(1, size))


def paginate(records: Sequence[Any], paging: tuple[int, int] | None) -> tuple[Sequence[Any], dict[str, int] | None]:
    """The slice for `paging` and the `pagination` block (None when unpaged)."""
    if paging is None:
        return records, None
    page, size = paging
    start = (page - 1) * size
    count = len(records)
    return records[start:start + size], {
        "page": page, "pageSize": size, "pageCount": math.ceil(count / size), "itemCount": count}


def parse_if_modified_since(value: str | None) -> dt.datetime | None:
    """An aware UTC datetime (second precision) from ISO 8601 or an RFC 1123 HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, OverflowError, IndexError) as exc:
            raise QueryError(f"invalid If-Modified-Since header {value[:60]!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_UTC)
    try:
        return parsed.astimezone(_UTC).replace(microsecond=0)
    except OverflowError:  # an offset pushes it past year 9999 or before year 1: clamp
        edge = dt.datetime.max if parsed.year > 1 else dt.datetime.min
        return edge.replace(tzinfo=_UTC, microsecond=0)


def split_list(value: str | None) -> list[str]:
    """A comma list parameter (IDs, Statuses, ...)."""
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("true", "1", "yes")
