"""Reading declared usage: a licensee's events and summary, a creator's usage of their works.

Each reads through `licensing.selectors.usage_reports`: one month's partition when a
period is given, sums in SQL, a page of events at a time (keyset cursor, newest first).
A licensee key reads only its organisation's events; a creator key only the usage of
the works the creator owns or co-owns.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.schema import error_responses
from config.errors import ApiErrorCode
from licensing.api.operation_docs import operation_docs
from licensing.api.params import choice_parameter
from licensing.api.permissions import IsCreator, IsLicensee
from licensing.api.serializers import MINOR_UNIT_HELP
from licensing.api.usage_decode import work_reference_parse
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import UsageEvent, UsageFlag
from licensing.selectors import usage_reports
from licensing.services.usage import PERIOD_PATTERN

FLAGS = list(UsageFlag.values)
PERIOD_REQUIRED = OpenApiParameter(
    "period", OpenApiTypes.STR, required=True, description="A month, YYYY-MM (UTC)."
)
_INVALID_CURSOR = {400: [ApiErrorCode.INVALID_CURSOR]}


def _parameter_invalid(name: str, message: str) -> LicensingError:
    return LicensingError(
        LicensingErrorCode.PARAMETER_INVALID, message, param=name, http_status=400
    )


def _period(request: Request, *, required: bool) -> str | None:
    period = request.query_params.get("period")
    if period in (None, "") and not required:
        return None
    if not isinstance(period, str) or not PERIOD_PATTERN.match(period):
        raise _parameter_invalid("period", "period is a month, YYYY-MM.")
    return period


def _work(request: Request) -> tuple[str, str] | None:
    reference = request.query_params.get("work")
    if reference in (None, ""):
        return None
    try:
        return work_reference_parse(reference)
    except ValueError as error:
        raise _parameter_invalid("work", str(error)) from None


def _flagged_schema() -> serializers.Serializer:
    return serializers.DictField(
        child=serializers.IntegerField(), help_text="Flagged events per flag (never rated)."
    )


class UsageEventSchema(serializers.Serializer):
    id = serializers.CharField(help_text="Your own event id.")
    object = serializers.CharField(help_text='Always "usage_event".')
    license = serializers.CharField()
    work = serializers.CharField(help_text="The work's id (wrk_…).")
    units = serializers.IntegerField(help_text="As declared, or as amended.")
    unit = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    period = serializers.CharField()
    flag = serializers.ChoiceField(choices=FLAGS, allow_null=True)
    corrections = serializers.IntegerField(help_text="How many corrections it has had.")


def _event_render(event: UsageEvent) -> dict[str, Any]:
    return {
        "id": event.event_id,
        "object": "usage_event",
        "license": event.license.public_id,
        "work": event.work.public_id,
        "units": event.units,
        "unit": event.unit,
        "occurred_at": event.occurred_at.isoformat(),
        "period": event.period,
        "flag": event.flag,
        "corrections": event.corrections_count,
    }


class UsageEventsApi(GenericAPIView):
    permission_classes = [IsLicensee]
    queryset = UsageEvent.objects.none()  # for the schema; rows come from the selector
    cursor_ordering = ("-id",)

    @extend_schema(
        **operation_docs("usage_events_list"),
        parameters=[
            OpenApiParameter("period", OpenApiTypes.STR, description="A month, YYYY-MM (UTC)."),
            OpenApiParameter("license", OpenApiTypes.STR, description="A license id (lic_…)."),
            OpenApiParameter(
                "work", OpenApiTypes.STR, description="wrk_… or an identifier (sha256:…, isrc:…)."
            ),
            OpenApiParameter("flag", OpenApiTypes.STR, enum=FLAGS),
        ],
        responses={
            200: UsageEventSchema(many=True),
            **error_responses(400, 401, 403, 429, codes=_INVALID_CURSOR),
        },
    )
    def get(self, request: Request) -> Response:
        events = usage_reports.organization_usage_events(
            organization=request.user.organization,
            period=_period(request, required=False),
            license_id=request.query_params.get("license") or None,
            work=_work(request),
            flag=choice_parameter(request, "flag", FLAGS),
        )
        page = self.paginate_queryset(events)
        return self.get_paginated_response([_event_render(event) for event in page])


class SummaryLineSchema(serializers.Serializer):
    license = serializers.CharField()
    work = serializers.CharField()
    use = serializers.CharField()
    unit = serializers.CharField()
    units = serializers.IntegerField()
    amount_decimal = serializers.CharField(
        allow_null=True,
        help_text="Per-unit licenses: the rated amount, a decimal string in the "
        + MINOR_UNIT_HELP
        + " Null for pool and flat lines.",
    )
    currency = serializers.CharField()


class UsageSummarySchema(serializers.Serializer):
    object = serializers.CharField(help_text='Always "usage_summary".')
    period = serializers.CharField()
    lines = SummaryLineSchema(many=True)
    flagged = _flagged_schema()


class UsageSummaryApi(GenericAPIView):
    permission_classes = [IsLicensee]
    queryset = UsageEvent.objects.none()

    @extend_schema(
        **operation_docs("usage_summary_retrieve"),
        parameters=[PERIOD_REQUIRED],
        responses={200: UsageSummarySchema, **error_responses(400, 401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        summary = usage_reports.organization_usage_summary(
            organization=request.user.organization, period=_period(request, required=True)
        )
        return Response(
            {
                "object": "usage_summary",
                "period": summary.period,
                "lines": [line.__dict__ for line in summary.lines],
                "flagged": summary.flagged,
            }
        )


class CreatorUsageLineSchema(serializers.Serializer):
    work = serializers.CharField()
    licensee = serializers.CharField(help_text="The licensee organisation's id (org_…).")
    licensee_name = serializers.CharField()
    use = serializers.CharField()
    unit = serializers.CharField()
    units = serializers.IntegerField()
    events = serializers.IntegerField()
    flag = serializers.ChoiceField(choices=FLAGS, allow_null=True)
    first_occurred_at = serializers.DateTimeField()
    last_occurred_at = serializers.DateTimeField()


class CreatorUsageSchema(serializers.Serializer):
    object = serializers.CharField(help_text='Always "creator_usage".')
    period = serializers.CharField()
    lines = CreatorUsageLineSchema(many=True)


class MyUsageApi(GenericAPIView):
    permission_classes = [IsCreator]
    queryset = UsageEvent.objects.none()

    @extend_schema(
        **operation_docs("me_usage_retrieve"),
        parameters=[PERIOD_REQUIRED],
        responses={
            200: CreatorUsageSchema,
            **error_responses(
                400, 401, 403, 429, codes={403: [LicensingErrorCode.CREATOR_KEY_REQUIRED]}
            ),
        },
    )
    def get(self, request: Request) -> Response:
        period = _period(request, required=True)
        lines = usage_reports.creator_usage_lines(creator=request.user.creator, period=period)
        return Response(
            {
                "object": "creator_usage",
                "period": period,
                "lines": [
                    {
                        "work": line.work,
                        "licensee": line.licensee,
                        "licensee_name": line.licensee_name,
                        "use": line.use,
                        "unit": line.unit,
                        "units": line.units,
                        "events": line.events,
                        "flag": line.flag,
                        "first_occurred_at": line.first_occurred_at.isoformat(),
                        "last_occurred_at": line.last_occurred_at.isoformat(),
                    }
                    for line in lines
                ],
            }
        )
