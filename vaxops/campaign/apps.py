from django.apps import AppConfig


class CampaignConfig(AppConfig):
    name = "vaxops.campaign"
    label = "campaign"
