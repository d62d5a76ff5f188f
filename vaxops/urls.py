from django.urls import include, path
from django.views.i18n import set_language

from vaxops.core.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("doses/", include("vaxops.vaccination.review_urls")),
    path("users/", include("vaxops.access.urls")),
    path("imports/", include("vaxops.interop.urls")),
    path("supply/", include("vaxops.supply.urls")),
    path("sessions/", include("vaxops.sites.urls")),
    path("staff/", include("vaxops.staff.urls")),
    path("visits/", include("vaxops.visits.urls")),
    path("aefi/", include("vaxops.safety.urls")),
    path("standby/", include("vaxops.standby.urls")),
    path("appointments/", include("vaxops.appointments.urls")),
    path("key-groups/", include("vaxops.keygroups.urls")),
    path("targets/", include("vaxops.targets.urls")),
    path("reports/", include("vaxops.reports.urls")),
    path("outreach/", include("vaxops.outreach.urls")),
    path("", include("vaxops.web.urls")),
]
