"""The portal's URLs and the benchmark's reference view."""

from bench.reference import urls

urlpatterns = urls()
