"""Every change of a roster's rows bumps its schedule's `version` (the roster cache's key).

Signals rather than service calls, because layers, participants and restrictions are edited in
the admin's inlines; deletes cascade through the ORM, which sends these too.
"""

from django.db.models import F
from django.db.models.signals import post_delete, post_save


def _bump(schedule_id) -> None:
    from oncall.models import Schedule

    if schedule_id:
        Schedule.objects.filter(pk=schedule_id).update(version=F("version") + 1)


def schedule_changed(sender, instance, created=False, **kwargs) -> None:
    if not created:  # a new schedule has nothing cached yet
        _bump(instance.pk)


def layer_changed(sender, instance, **kwargs) -> None:
    _bump(instance.schedule_id)


def layer_part_changed(sender, instance, **kwargs) -> None:
    from oncall.models import Layer

    _bump(Layer.objects.filter(pk=instance.layer_id).values_list("schedule", flat=True)
          .first())


def connect() -> None:
    from oncall.models import Layer, LayerMember, Override, Restriction, Schedule

    post_save.connect(schedule_changed, sender=Schedule, dispatch_uid="oncall.schedule")
    for model, handler in ((Layer, layer_changed), (Override, layer_changed),
                           (LayerMember, layer_part_changed),
                           (Restriction, layer_part_changed)):
        for signal in (post_save, post_delete):
            signal.connect(handler, sender=model, dispatch_uid=f"oncall.{model.__name__}")
