from django.apps import AppConfig


class BleepConfig(AppConfig):
    name = "bleep"
    verbose_name = "Bleep"
