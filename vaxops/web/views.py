"""Web pages (placeholder until the dashboard and site desk land)."""

from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"


def logout_view(request):
    logout(request)
    return redirect("web:login")


@login_required
def dashboard(request):
    return HttpResponse("dashboard")
