"""Query parameters shared by the catalogue's views, parsed into values or a 400."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from licensing.errors import LicensingError, LicensingErrorCode

VERSION_MAX = 1_000_000
VERSION_PARAMETER = OpenApiParameter(
    "version", OpenApiTypes.INT, description="An earlier version of the offer, exactly as it was."
)


def version_parameter(request: Request) -> int | None:
    raw = request.query_params.get("version")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= VERSION_MAX:
        raise LicensingError(
            LicensingErrorCode.PARAMETER_INVALID,
            "version is a positive whole number.",
            param="version",
            http_status=400,
        )
    return int(raw)


def choice_parameter(request: Request, name: str, choices: list[str]) -> str | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if value not in choices:
        raise LicensingError(
            LicensingErrorCode.PARAMETER_INVALID,
            f"{name} is one of " + ", ".join(choices) + ".",
            param=name,
            http_status=400,
        )
    return value
