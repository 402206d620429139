"""How deeply a JSON document from a client may nest, and the check, in one place.

Python's JSON decoder recurses once per level, and so do the serializers that read what it
returns: a body of a thousand `[` fails with a RecursionError deep inside, answered 500.
Nothing Bleep takes nests more than a few levels, so anything past MAX_JSON_DEPTH is
refused as bad input. Written here because neither the standard library nor DRF bounds it.
"""

import json
from typing import Any

MAX_JSON_DEPTH = 32


class TooDeep(ValueError):
    """The document nests past MAX_JSON_DEPTH, or too deeply to decode at all."""

    def __init__(self) -> None:
        super().__init__(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")


def loads(text: str | bytes) -> Any:
    """Decode `text` as `json.loads` does, raising TooDeep past MAX_JSON_DEPTH levels."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise TooDeep() from None
    check_depth(data)
    return data


def check_depth(data: Any) -> None:
    """Raise TooDeep if `data` nests lists and objects more than MAX_JSON_DEPTH levels deep."""
    # A stack, not recursion: the point is to survive what recursion would not.
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise TooDeep()
        children = value.values() if isinstance(value, dict) else value
        pending.extend((child, depth + 1) for child in children)
