"""Who may do what with an incident: used by transitions, views, the API and querysets."""


def has_perm(user, perm: str) -> bool:
    """user.has_perm, remembered on the user object for the request: a list of 50 incidents
    asks it hundreds of times, and each call walks every authentication backend."""
    cache = user.__dict__.setdefault("_itsm_perms", {})
    if perm not in cache:
        cache[perm] = user.has_perm(perm)
    return cache[perm]


def is_agent(user) -> bool:
    return user.is_authenticated and has_perm(user, "incidents.view_incident")


def team_ids(user) -> set[int]:
    """The user's team ids, cached on the user object for the request."""
    if not hasattr(user, "_itsm_team_ids"):
        user._itsm_team_ids = set(user.teams.values_list("id", flat=True))
    return user._itsm_team_ids


def can_work(incident, user) -> bool:
    """Managers and admins work any incident; agents their team's, their own and unassigned ones."""
    if not is_agent(user):
        return False
    if has_perm(user, "incidents.work_any_incident"):
        return True
    if incident.assignee_id == user.pk or incident.assignment_team_id is None:
        return True
    return incident.assignment_team_id in team_ids(user)


def is_party(incident, user) -> bool:
    return user.pk in (incident.caller_id, incident.reported_by_id)


def can_work_or_is_caller(incident, user) -> bool:
    """The caller may confirm (close) or reopen their own resolved incident."""
    return is_party(incident, user) or can_work(incident, user)


def can_view(incident, user) -> bool:
    return is_agent(user) or is_party(incident, user)


def can_override_priority(user) -> bool:
    return has_perm(user, "incidents.override_priority")
