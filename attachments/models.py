import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from attachments.storage import get_storage
from attachments.types import PREVIEWABLE, storage_name
from incidents.models import Incident, TimelineEntry
from itsm import clock


def upload_path(attachment: "Attachment", filename: str) -> str:
    """incidents/<number>/<attachment id>/<safe name>: the id keeps every file apart."""
    return f"incidents/{attachment.incident.number}/{attachment.pk}/{storage_name(filename)}"


class Attachment(models.Model):
    """A file posted on an incident, usually with a comment or work note (`entry`).

    Written only by `attachments.services`. The id is random, so an address cannot be guessed;
    it is still checked against the incident's visibility on every download. `content_type`
    was decided at upload from the extension and the file's first bytes, never from the client.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    entry = models.ForeignKey(TimelineEntry, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="attachments",
                              help_text="The comment or work note it was posted with.")
    internal = models.BooleanField(default=False,
                                   help_text="Posted with an internal work note: agents only.")
    file = models.FileField(storage=get_storage, upload_to=upload_path, max_length=300)
    name = models.CharField(max_length=255, help_text="The file's own name, cleaned.")
    size = models.PositiveBigIntegerField(help_text="Bytes.")
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    position = models.PositiveSmallIntegerField(default=0,
                                                help_text="Its place among the files posted "
                                                          "together.")

    class Meta:
        ordering = ["created_at", "position", "id"]
        indexes = [models.Index(fields=["incident", "created_at"], name="attachment_incident_at")]

    def __str__(self):
        return self.name

    @property
    def previewable(self) -> bool:
        return self.content_type in PREVIEWABLE

    @property
    def download_url(self) -> str:
        return reverse("attachments:download", args=[self.pk, self.name])

    @property
    def inline_url(self) -> str:
        """Shown in the browser (images only; anything else still downloads)."""
        return f"{self.download_url}?inline=1"
