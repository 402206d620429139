"""The JSON parser every API view reads its body with (REST_FRAMEWORK's default)."""

from collections.abc import Mapping
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from bleep.json_depth import TooDeep, check_depth


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing a body nested past MAX_JSON_DEPTH with 400, not 500."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
            check_depth(data)
        except (TooDeep, RecursionError):
            raise ParseError(str(TooDeep())) from None
        return data
