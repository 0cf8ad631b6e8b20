from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from itsm.models import Heartbeat, Notification, Service, Team, User
from itsm.notifications import notifications_retry


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("Service desk", {"fields": ("time_zone", "phone")}),
    ]
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active")
    list_filter = ("groups", "is_staff", "is_active", "teams")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "tier", "manager", "next_tier", "member_count", "active")
    list_filter = ("tier", "active")
    search_fields = ("name", "email", "members__username")
    autocomplete_fields = ("manager", "next_tier")
    filter_horizontal = ("members",)

    @admin.display(description="members")
    def member_count(self, team):
        return team.members.count()


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "criticality", "owner_team", "active")
    list_filter = ("criticality", "active", "owner_team")
    search_fields = ("name", "description")
    autocomplete_fields = ("owner_team",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, read-only: what went out, what waits for a retry and what failed, and why."""

    list_display = ("subject", "address", "channel", "status", "attempts", "created_at",
                    "sent_at", "short_error")
    list_filter = ("status", "channel")
    search_fields = ("subject", "address", "recipient__username", "key")
    readonly_fields = [f.name for f in Notification._meta.fields]
    list_select_related = ("recipient",)
    show_full_result_count = False
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # delivery state changes through the outbox service only

    @admin.display(description="last error")
    def short_error(self, note):
        return note.last_error[:80]

    @admin.action(description="Retry the selected failed notifications now",
                  permissions=["view"])
    def retry(self, request, queryset):
        retried = notifications_retry(ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{retried} failed notification(s) queued again; "
                                   "others were not failed.", messages.SUCCESS)


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "seen_at")

    def has_add_permission(self, request):
        return False  # written by the heartbeat task only
