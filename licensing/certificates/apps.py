from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "licensing.certificates"
    label = "certificates"
    verbose_name = "License certificates"

    def ready(self) -> None:
        from licensing.certificates import checks  # noqa: F401 - registers the deploy checks
