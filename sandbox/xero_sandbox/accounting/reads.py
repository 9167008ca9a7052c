"""How the Accounting API answers a list read: where / If-Modified-Since / order / page over the
records, and serialised JSON kept on a record until it changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import request

from xero_sandbox import xero_json as xj
from xero_sandbox.query import (
    compile_where, page_args, paginate, parse_if_modified_since, sort_records,
)


def cached_json(record: Any, variant: str, build: Callable[[], dict[str, Any]],
                generation: int) -> xj.RawJSON:
    """Serialised JSON kept on the record until it (or any contact name) changes."""
    cache = record.cache if isinstance(record.cache, dict) else {}
    hit = cache.get(variant)
    if hit is not None and hit[0] == generation:
        return hit[1]
    text = xj.RawJSON(xj.dumps(build()))
    cache[variant] = (generation, text)
    record.cache = cache
    return text


def list_records(records: Iterable[Any], fields: Mapping[str, Callable[[Any], Any]],
                 id_of: Callable[[Any], Any], *, presorted: bool = False, paged: bool = True,
                 extra: Callable[[Any], bool] | None = None,
                 ) -> tuple[list[Any], dict[str, int] | None]:
    """Filter by where/If-Modified-Since/extra, order, and page a list of records."""
    pred = compile_where(request.args.get("where"), fields)
    since = parse_if_modified_since(request.headers.get("If-Modified-Since"))
    updated_of = fields["UpdatedDateUTC"]
    chosen = [r for r in records
              if (pred is None or pred(r)) and (extra is None or extra(r))
              and (since is None or updated_of(r) > since)]
    order = request.args.get("order")
    if order or not presorted:
        chosen = sort_records(chosen, order, fields, id_of, updated_of)
    paging = page_args(request.args.get("page"), request.args.get("pageSize")) if paged else None
    page, pagination = paginate(chosen, paging)
    return list(page), pagination
