"""The API's JSON parser: DRF's, plus the two bodies it let through to a 500.

- JSON nested so deep that Python's parser runs out of stack (`[[[[…` 5,000 deep)
  raised `RecursionError`, which is not a `ValueError`, so DRF did not turn it into a
  400. It is `400 json_too_deep` now. The limit is the interpreter's recursion limit
  (about 1,000 levels, less what the call stack already uses): no body the API takes
  is more than four levels deep, and an exact depth walk of a 10,000-event usage
  body cost more than parsing it (docs/development.md).
- A lone UTF-16 surrogate (`"\\ud800"`) is valid JSON syntax but not a character: it
  cannot be encoded as UTF-8, so the first error message that quoted it (a choice
  field's "… is not a valid choice") failed to render. It is `400 invalid_json` at
  the door. Surrogate escapes are rare, so a C-speed scan of the raw text decides
  whether the parsed value needs the exact check at all; a correct pair (an emoji
  written as `\\ud83d\\ude00`) is one character and passes.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json as drf_json

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonTooDeep(ParseError):
    default_detail = "The request body is nested too deeply."
    default_code = "json_too_deep"


class JsonNotText(ParseError):
    default_detail = "The request body has a lone UTF-16 surrogate, which is not a character."
    default_code = "invalid_json"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing deep nesting and lone surrogates with a 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding") or "utf-8"
        try:
            text = codecs.getreader(encoding)(stream).read()
            parse_constant = drf_json.strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise JsonTooDeep() from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        if _SURROGATE_ESCAPE.search(text) and not is_unicode_text(data):
            raise JsonNotText()
        return data


def is_unicode_text(data: Any) -> bool:
    """Say whether every string in a parsed JSON value can be encoded as UTF-8."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return False
    return True
