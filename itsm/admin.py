from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from itsm.models import Heartbeat, Notification, Service, Team, User


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
    list_display = ("subject", "recipient", "created_at", "sent_at")
    list_filter = ("sent_at",)
    search_fields = ("subject", "recipient__username")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "seen_at")

    def has_add_permission(self, request):
        return False  # written by the heartbeat task only
