from django.urls import path

from vaxops.access import views

app_name = "access"
urlpatterns = [
    path("", views.user_list, name="users"),
    path("new/", views.user_new, name="user_new"),
    path("<int:user_id>/", views.user_detail, name="user"),
    path("<int:user_id>/<slug:action>/", views.user_action, name="user_action"),
]
