from django.urls import include, path

from vaxops.web import views

app_name = "web"
urlpatterns = [
    # The dashboard is the campaign app's; included here so its name stays "web:dashboard".
    path("", include("vaxops.campaign.urls")),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("", include("vaxops.vaccination.urls")),
]
