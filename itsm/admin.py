import contextlib

from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from rest_framework.authtoken.models import TokenProxy

from itsm.models import ApiToken, Heartbeat, Notification, Service, Team, User
from itsm.notifications import notifications_retry

# DRF's plain-text tokens are no longer accepted (itsm.authentication reads ApiToken): an
# "Auth Token" page would only make keys that do not work.
with contextlib.suppress(NotRegistered):
    admin.site.unregister(TokenProxy)


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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Who has an API token and when it was last used; deleting one revokes it. The key itself
    is not stored, and the admin does not show even its hash."""

    list_display = ("prefix", "user", "created_at", "last_used_at")
    search_fields = ("prefix", "user__username")
    fields = ("user", "prefix", "created_at", "last_used_at")
    readonly_fields = fields
    list_select_related = ("user",)

    def has_add_permission(self, request):
        return False  # made by their owner on the profile page, the only place a key is shown

    def has_change_permission(self, request, obj=None):
        return False
