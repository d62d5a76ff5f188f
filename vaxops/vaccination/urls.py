"""The site desk's pages. Included by ``web.urls`` without a namespace of its own, so the
names stay ``web:desk``, ``web:desk_lookup`` … as links and bookmarks already use them."""

from django.urls import path

from vaxops.vaccination import desk, desk_deferrals

urlpatterns = [
    path("desk/", desk.desk, name="desk"),
    path("desk/lookup/", desk.desk_lookup, name="desk_lookup"),
    path("desk/card/", desk.desk_card, name="desk_card"),
    path("desk/divisions/", desk.desk_divisions, name="desk_divisions"),
    path("desk/register/", desk.desk_register, name="desk_register"),
    path("desk/record/", desk.desk_record, name="desk_record"),
    path("desk/void/", desk.desk_void, name="desk_void"),
    path("desk/lift/", desk_deferrals.desk_lift, name="desk_lift"),
]
