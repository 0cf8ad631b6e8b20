from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        from django.db.models.signals import post_migrate

        from incidents.defaults import seed_priority_matrix, seed_sla_policies

        post_migrate.connect(seed_priority_matrix, sender=self)
        post_migrate.connect(seed_sla_policies, sender=self)
