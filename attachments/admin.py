from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from attachments.models import Attachment
from attachments.types import human_size


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    """Read-only: files are added with comments and removed through the service (which also
    removes the stored file), never edited here."""

    list_display = ("name", "incident_link", "size_shown", "content_type", "internal",
                    "uploaded_by", "created_at", "download")
    list_filter = ("internal", "content_type")
    search_fields = ("name", "incident__number")
    list_select_related = ("incident", "uploaded_by")
    fields = ("name", "incident", "entry", "size", "content_type", "internal", "uploaded_by",
              "created_at", "stored_as", "download")
    readonly_fields = fields
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="incident", ordering="incident__number")
    def incident_link(self, attachment):
        return format_html('<a href="{}">{}</a>', attachment.incident.get_absolute_url(),
                           attachment.incident.number)

    @admin.display(description="size", ordering="size")
    def size_shown(self, attachment):
        return human_size(attachment.size)

    @admin.display(description="stored as")
    def stored_as(self, attachment):
        return attachment.file.name  # a path in the attachments storage, not an address

    @admin.display(description="file")
    def download(self, attachment):
        return format_html('<a href="{}">Download</a>',
                           reverse("attachments:download", args=[attachment.pk, attachment.name]))
