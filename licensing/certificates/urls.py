from django.urls import path

from licensing.certificates.views import accord_keys

urlpatterns = [path(".well-known/accord-keys.json", accord_keys, name="accord-keys")]
