from django.db import models


class Tier(models.IntegerChoices):
    L1 = 1, "L1 – service desk"
    L2 = 2, "L2 – specialists"
    L3 = 3, "L3 – engineering / vendor"


class Criticality(models.IntegerChoices):
    """Business criticality of a service; mission-critical services raise incident priority."""

    MISSION_CRITICAL = 1, "Mission critical"
    BUSINESS_CRITICAL = 2, "Business critical"
    BUSINESS_OPERATIONAL = 3, "Business operational"
    ADMINISTRATIVE = 4, "Administrative"


class Role(models.TextChoices):
    """The roles, each a Django group kept by `itsm.roles.sync_roles`."""

    REQUESTER = "Requester"
    AGENT = "Agent"
    MANAGER = "Manager"
    PROBLEM_MANAGER = "Problem Manager"
    ADMIN = "Admin"


class DeliveryChannel(models.TextChoices):
    """How an outbound message travels; each has an entry in `itsm.notifications.CHANNELS`."""

    EMAIL = "email", "E-mail"
    IN_APP = "in_app", "In-app"  # the notification list; nothing leaves the system
    APPRISE = "apprise", "Apprise"  # chat, SMS and webhooks through an Apprise URL


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its due time (first try or a retry)
    SENDING = "sending", "Sending"  # claimed by a worker; reclaimed when the claim goes stale
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # gave up after the last attempt; retry from the admin
    CANCELED = "canceled", "Canceled"  # no longer needed (a later rung of an acknowledged page)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"
