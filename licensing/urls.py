"""Routes of the `licensing` app, mounted at the URL root by `config.urls`."""

from django.urls import path

from licensing.api import (
    views_catalogue,
    views_clearance,
    views_creator,
    views_licensee,
    views_public,
    views_signals,
    views_usage,
    views_usage_reads,
)

urlpatterns = [
    # Creator endpoints.
    path("api/v1/me/works", views_creator.MyWorksApi.as_view(), name="me-works"),
    path("api/v1/me/works/<str:work_id>", views_creator.MyWorkApi.as_view(), name="me-work"),
    path("api/v1/me/offers", views_creator.MyOffersApi.as_view(), name="me-offers"),
    path("api/v1/me/offers/<str:offer_id>", views_creator.MyOfferApi.as_view(), name="me-offer"),
    path(
        "api/v1/me/offers/<str:offer_id>/versions",
        views_creator.MyOfferVersionsApi.as_view(),
        name="me-offer-versions",
    ),
    path("api/v1/me/collections", views_creator.MyCollectionsApi.as_view(), name="me-collections"),
    path(
        "api/v1/me/collections/<str:collection_id>",
        views_creator.MyCollectionApi.as_view(),
        name="me-collection",
    ),
    path("api/v1/me/usage", views_usage_reads.MyUsageApi.as_view(), name="me-usage"),
    # The catalogue, for any key.
    path("api/v1/works", views_catalogue.WorksApi.as_view(), name="works"),
    path("api/v1/works/<str:work_id>", views_catalogue.WorkApi.as_view(), name="work"),
    path("api/v1/offers/<str:offer_id>", views_catalogue.OfferApi.as_view(), name="offer"),
    path(
        "api/v1/collections/<str:collection_id>",
        views_catalogue.CollectionApi.as_view(),
        name="collection",
    ),
    # Licensees.
    path("api/v1/usage", views_usage.UsageApi.as_view(), name="usage"),
    path(
        "api/v1/usage/corrections",
        views_usage.UsageCorrectionsApi.as_view(),
        name="usage-corrections",
    ),
    path("api/v1/usage/events", views_usage_reads.UsageEventsApi.as_view(), name="usage-events"),
    path("api/v1/usage/summary", views_usage_reads.UsageSummaryApi.as_view(), name="usage-summary"),
    path("api/v1/licenses", views_licensee.LicensesApi.as_view(), name="licenses"),
    path(
        "api/v1/licenses/<str:license_id>",
        views_licensee.LicenseApi.as_view(),
        name="license-detail",
    ),
    path(
        "api/v1/licenses/<str:license_id>/certificate",
        views_licensee.LicenseCertificateApi.as_view(),
        name="license-certificate",
    ),
    # Dataset clearances.
    path("api/v1/clearances", views_clearance.ClearancesApi.as_view(), name="clearances"),
    path(
        "api/v1/clearances/<str:clearance_id>",
        views_clearance.ClearanceApi.as_view(),
        name="clearance",
    ),
    path(
        "api/v1/clearances/<str:clearance_id>/items",
        views_clearance.ClearanceItemsApi.as_view(),
        name="clearance-items",
    ),
    path(
        "api/v1/clearances/<str:clearance_id>/items.csv",
        views_clearance.ClearanceItemsCsvApi.as_view(),
        name="clearance-items-csv",
    ),
    path(
        "api/v1/clearances/<str:clearance_id>/purchase",
        views_clearance.ClearancePurchaseApi.as_view(),
        name="clearance-purchase",
    ),
    path(
        "api/v1/clearances/<str:clearance_id>/certificate",
        views_clearance.ClearanceCertificateApi.as_view(),
        name="clearance-certificate",
    ),
    # Public, no key.
    path(
        "api/v1/certificates/verify",
        views_licensee.CertificateVerifyApi.as_view(),
        name="certificate-verify",
    ),
    path("api/v1/registry", views_public.RegistryApi.as_view(), name="registry"),
    path("works/<str:work_id>", views_public.WorkPageApi.as_view(), name="work-page"),
    path(
        "works/<str:work_id>/license.xml",
        views_public.WorkLicenseXmlApi.as_view(),
        name="work-license-xml",
    ),
    path(".well-known/tdmrep.json", views_public.TdmRepApi.as_view(), name="tdmrep"),
    path(
        "works/<str:work_id>/tdm-policy.jsonld",
        views_signals.WorkTdmPolicyApi.as_view(),
        name="work-tdm-policy",
    ),
    path(
        "collections/<str:collection_id>/license.xml",
        views_signals.CollectionLicenseXmlApi.as_view(),
        name="collection-license-xml",
    ),
    path("license.xml", views_signals.SiteLicenseXmlApi.as_view(), name="site-license-xml"),
    path("robots.txt", views_signals.RobotsTxtApi.as_view(), name="robots-txt"),
]
