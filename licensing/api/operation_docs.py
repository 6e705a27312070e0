"""What the OpenAPI schema says of each licensing operation: summary, description, examples.

Three tables by area (`operation_docs_catalogue`, `_licensees`, `_finance`), merged here,
so the words of one area read as one document and a view keeps its decorator short:
`@extend_schema(**operation_docs("me_works_create"), request=..., responses=...)`.
`tests/config/test_schema.py` fails for any operation in the schema without a summary
and a description, and for any request body without an example, so a new endpoint
brings its words with it. Amounts in examples are in the minor unit, as on the wire.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample

from licensing.api import (
    operation_docs_catalogue,
    operation_docs_finance,
    operation_docs_licensees,
)

# One table each, by who calls the operations; an id appears in exactly one.
_AREAS = (operation_docs_catalogue, operation_docs_licensees, operation_docs_finance)
OPERATIONS: dict[str, tuple[str, str]] = {
    key: words for area in _AREAS for key, words in area.OPERATIONS.items()
}
REQUEST_EXAMPLES: dict[str, list[OpenApiExample]] = {
    key: examples for area in _AREAS for key, examples in area.REQUEST_EXAMPLES.items()
}
assert len(OPERATIONS) == sum(len(area.OPERATIONS) for area in _AREAS), "an id in two areas"


def operation_docs(operation_id: str) -> dict[str, Any]:
    """The `extend_schema` arguments that name and describe one operation."""
    summary, description = OPERATIONS[operation_id]
    docs: dict[str, Any] = {
        "operation_id": operation_id,
        "summary": summary,
        "description": description,
    }
    if operation_id in REQUEST_EXAMPLES:
        docs["examples"] = REQUEST_EXAMPLES[operation_id]
    return docs
