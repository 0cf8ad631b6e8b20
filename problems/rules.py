"""Who may do what with problems and knowledge (used by transitions, guards, views, the API)."""

from incidents.rules import has_perm, is_agent, team_ids


def can_manage(problem_or_user, user=None) -> bool:
    """Problem managers (and admins) assess, close, cancel and publish knowledge.

    Called as a transition permission (problem, user) or as can_manage(user).
    """
    user = problem_or_user if user is None else user
    return is_agent(user) and has_perm(user, "problems.manage_problem")


def can_work(problem, user) -> bool:
    """Its owner, whoever raised it, its team's members and problem managers work a problem."""
    if not is_agent(user):
        return False
    if can_manage(user) or user.pk in (problem.owner_id, problem.created_by_id):
        return True
    return problem.assignment_team_id is not None and problem.assignment_team_id in team_ids(user)


def can_view(user) -> bool:
    """Problems and known errors are for agents only; requesters never see them."""
    return is_agent(user)
