from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "licensing.certificates"
    label = "certificates"
    verbose_name = "License certificates"
