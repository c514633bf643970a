from django.contrib.auth import views as auth_views
from django.urls import path

from migrator.portal import views
from migrator.portal.forms import PortalLoginForm

app_name = "portal"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="portal/login.html", authentication_form=PortalLoginForm,
                                                next_page="portal:home"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="portal:login"), name="logout"),
    path("", views.home, name="home"),
    path("migrations/<int:migration_id>/", views.migration_detail, name="migration"),
    path("download/<str:token>/", views.download, name="download"),
]
