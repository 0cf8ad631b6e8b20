"""The demo's problem management: three problems, the known-error database and articles.

The loop end to end: a VPN problem raised from the demo's VPN incidents, analysed (5 Whys,
root cause, workaround), its known error published and applied to an open incident that is
then resolved with it, the fix in progress with incidents on hold awaiting it. Around it: more
published known errors on what the demo's incidents are about (so the suggestions find them),
one draft and one retired, runbooks and articles in Markdown, a new problem and one in root
cause analysis, and one recurrence-detection run.

Part of the history: seeded right after the incidents, before the SLA sweep settles their
clocks and before anyone has an address (on a demo loaded before problems existed: after its
on-call side). Every record is made through `problems.services` and `incidents.services` with
the clock frozen at a past instant, so the timelines read as they were written; an incident
is touched only after the last line of its own history. Idempotent: nothing is added once a
problem exists.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import count

from django.db.models import Max, Q

from incidents import services as incident_services
from incidents.choices import HoldReason, Level, ResolutionCode, State
from incidents.models import Incident, TimelineEntry
from itsm import clock
from itsm.demo import catalog
from itsm.demo.reference import Cast
from itsm.models import Notification, User
from oncall.choices import PageState
from oncall.models import Page
from problems import services
from problems.choices import ArticleKind, Audience, KnowledgeStatus
from problems.models import Problem
from problems.recurrence import detect_recurrence

DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
WORKING = (State.NEW, State.IN_PROGRESS)


def seed_problems(cast: Cast) -> bool:
    """Problems, known errors and articles for the demo organisation; False if already there."""
    if Problem.objects.exists():
        return False
    outbox = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
    demo = ProblemStory(cast, end=_story_end())
    demo.vpn_problem()
    demo.docking_problem()
    demo.warehouse_problem()
    demo.knowledge()
    demo.tell()
    with clock.frozen_at(demo.end):
        detect_recurrence()
    _withdraw_mail(after=outbox)
    return True


def _story_end() -> datetime:
    """The instant the story catches up with: the history's last one (where the demo pages
    start), or a few minutes ago on a demo loaded long before."""
    now = clock.now()
    last = TimelineEntry.objects.aggregate(last=Max("at"))["last"]
    return last if last is not None and now - last < DAY else now - 5 * MINUTE


def _withdraw_mail(*, after: int) -> int:
    """The story is backdated history, like the incidents': nobody is told of it.

    Its services queue messages as they do live (a caller told of the resolution, problem
    managers of the suggestions); they are deleted before the seed commits, so none is ever
    sent (delivery is enqueued on commit and finds nothing). The demo pages' are kept.
    """
    deleted, _ = (Notification.objects.filter(pk__gt=after)
                  .exclude(key__startswith="page:").delete())
    return deleted


class ProblemStory:
    """Steps planned at past instants, then told in time order (`tell`)."""

    def __init__(self, cast: Cast, *, end: datetime):
        self.cast, self.end = cast, end
        self.steps: list[tuple[datetime, int, Callable[[], None]]] = []
        self._order = count()
        self.records: dict[str, object] = {}  # what a later step needs, by name
        # A demo loaded before problems existed has no problem manager: the admin acts.
        self.manager = cast.users.get("problems") or cast.users["admin"]
        self.paged = set(Page.objects.filter(state=PageState.ACTIVE)
                         .values_list("incident_id", flat=True))

    # --- planning and telling --------------------------------------------------------------

    def plan(self, at: datetime, action: Callable[[], None]) -> None:
        self.steps.append((min(at, self.end), next(self._order), action))

    def tell(self) -> None:
        for at, _, action in sorted(self.steps, key=lambda step: step[:2]):
            with clock.frozen_at(at):
                action()

    def user(self, username: str) -> User:
        return self.cast.users[username]

    def after_history(self, incident: Incident, at: datetime) -> datetime:
        """`at`, or just after the incident's own last timeline line if that is later."""
        last = incident.timeline.aggregate(last=Max("at"))["last"] or incident.opened_at
        return max(at, min(last + 10 * MINUTE, self.end), last)

    def incidents(self, *conditions, **lookups) -> list[Incident]:
        """Demo incidents to link: not canceled and not being paged right now, oldest first."""
        return list(Incident.objects.filter(*conditions, **lookups).exclude(state=State.CANCELED)
                    .exclude(pk__in=self.paged)
                    .select_related("assignment_team", "assignee").order_by("opened_at"))

    def worker(self, incident: Incident) -> User:
        """Who works the incident: its assignee, else its team's (the demo agent if there)."""
        if incident.assignee_id:
            return incident.assignee
        members = self.cast.members(incident.assignment_team) if incident.assignment_team \
            else []
        if self.user("agent") in members:
            return self.user("agent")
        return members[0] if members else self.manager

    # --- incidents --------------------------------------------------------------------------

    def link(self, name: str, incident: Incident, at: datetime, *, by: User | None = None,
             hold: bool = False) -> None:
        """Link the incident to the problem `name` and say so in a work note; `hold` also
        puts it on hold awaiting the problem (acknowledged first if new)."""

        def act():
            problem = self.records[name]
            worker = self.worker(incident)
            linker = by or worker
            services.problem_link_incidents(problem=problem, by=linker, incidents=[incident])
            current = Incident.objects.get(pk=incident.pk)
            if hold and current.state in WORKING:
                if current.state == State.NEW:
                    current = incident_services.incident_acknowledge(incident=current,
                                                                     by=worker)
                incident_services.incident_comment(
                    incident=current, by=worker, internal=True,
                    body=f"{catalog.HOLD_REASONS[HoldReason.AWAITING_PROBLEM]} ({problem.number})")
                incident_services.incident_hold(incident=current, by=worker,
                                                reason=HoldReason.AWAITING_PROBLEM)
            else:
                incident_services.incident_comment(
                    incident=current, by=linker, internal=True,
                    body=f"Same cause as {problem.number} ({problem.title}); linked it.")

        self.plan(self.after_history(incident, at), act)

    def apply_workaround(self, name: str, incident: Incident, at: datetime) -> None:
        """Apply the known error `name` to an open incident and resolve it with it."""

        def act():
            known_error, worker = self.records[name], self.worker(incident)
            current = Incident.objects.get(pk=incident.pk)
            if current.state == State.NEW:
                current = incident_services.incident_acknowledge(incident=current, by=worker)
            elif current.state == State.ON_HOLD:
                current = incident_services.incident_resume(incident=current, by=worker)
            services.workaround_apply(known_error=known_error, incident=current, by=worker)
            incident_services.incident_resolve(
                incident=current, by=worker, code=ResolutionCode.KNOWN_ERROR,
                notes=f"Applied the workaround of {known_error.number}: reconnected through "
                      "the backup gateway vpn2.example.com; stable for 30 minutes.")

        self.plan(self.after_history(incident, at), act)

    # --- the problems -----------------------------------------------------------------------

    def create(self, key: str, at: datetime, by: User, /, **fields) -> None:
        def act():
            self.records[key] = services.problem_create(by=by, **fields)

        self.plan(at, act)

    def problem_step(self, key: str, at: datetime, service: Callable, /, **params) -> None:
        """A problem service called on the current row of problem `key`."""

        def act():
            problem = Problem.objects.get(pk=self.records[key].pk)
            result = service(problem=problem, **params)
            if isinstance(result, Problem):
                self.records[key] = result

        self.plan(at, act)

    def vpn_problem(self) -> None:
        """(a) and (b): fix in progress, incidents on hold awaiting it, its known error
        published and applied once."""
        start = self.end - 8 * DAY
        nora, lina = self.manager, self.user("lina.okafor")
        self.create("vpn", start, nora, title=VPN["title"], description=VPN["description"],
                    service=self.cast.services["Corporate VPN"],
                    category=self.cast.categories[("Network", None)], impact=Level.HIGH,
                    urgency=Level.MEDIUM, owner=lina,
                    assignment_team=self.cast.teams["Network Operations"])
        step = self.problem_step
        step("vpn", start + 40 * MINUTE, services.problem_transition, by=nora, name="assess")
        step("vpn", start + 3 * HOUR, services.problem_transition, by=lina, name="analyze")
        step("vpn", start + DAY, services.problem_save_whys, by=lina, whys=VPN["whys"])
        step("vpn", start + DAY + 2 * HOUR, services.problem_update, by=lina,
             root_cause=VPN["root_cause"], contributing_factors=VPN["contributing_factors"],
             workaround=VPN["workaround"])
        self.plan(start + DAY + 3 * HOUR, lambda: self.records.update(vpn_ke=(
            services.known_error_from_problem(problem=self.records["vpn"], by=lina))))
        self.plan(start + DAY + 4 * HOUR, lambda: self.records.update(vpn_ke=(
            services.knowledge_set_status(record=self.records["vpn_ke"], by=nora,
                                          status=KnowledgeStatus.PUBLISHED))))
        step("vpn", start + 2 * DAY, services.problem_transition, by=lina, name="start_fix")
        step("vpn", start + 2 * DAY + HOUR, services.problem_update, by=lina,
             permanent_fix=VPN["permanent_fix"], change_reference=VPN["change_reference"])
        step("vpn", start + 3 * DAY, services.problem_note, by=nora, body=VPN["note"])

        found = self.incidents(service=self.cast.services["Corporate VPN"])
        working = [i for i in found if i.state in WORKING]
        waiting = [i for i in found if i.state == State.ON_HOLD]
        # The workaround goes to the latest incident on hold for something else (it is resumed)
        # or else the latest one being worked; up to three others wait for the fix.
        workaround = waiting[-1] if waiting else (working.pop() if working else None)
        held = working[-3:]
        others = [i for i in found if i not in held and i is not workaround][:5 - len(held)]
        for incident in others:
            self.link("vpn", incident, start + 20 * MINUTE, by=lina)
        for incident in held:
            self.link("vpn", incident, start + 2 * DAY + 2 * HOUR, hold=True)
        if workaround is not None:
            self.apply_workaround("vpn_ke", workaround, start + DAY + 5 * HOUR)

    def docking_problem(self) -> None:
        """(e) A new problem an agent raised from docking-station incidents."""
        start, agent = self.end - 2 * DAY, self.user("agent")
        self.create("dock", start, agent, title=DOCK["title"], description=DOCK["description"],
                    service=self.cast.services["Workplace devices"],
                    category=self.cast.categories[("Hardware", None)],
                    assignment_team=self.cast.teams["Service Desk"])
        dock = self.cast.categories[("Hardware", "Docking station")]
        for incident in self.incidents(subcategory=dock)[-3:]:
            self.link("dock", incident, start + 10 * MINUTE, by=agent)

    def warehouse_problem(self) -> None:
        """(e) A problem in root cause analysis, its 5 Whys half answered."""
        start, nora, grace = self.end - 5 * DAY, self.manager, self.user("grace.kim")
        self.create("dwh", start, nora, title=DWH["title"], description=DWH["description"],
                    service=self.cast.services["Data warehouse"],
                    category=self.cast.categories[("Infrastructure", None)],
                    impact=Level.MEDIUM, urgency=Level.HIGH, owner=grace,
                    assignment_team=self.cast.teams["Database Administration"])
        step = self.problem_step
        step("dwh", start + HOUR, services.problem_transition, by=nora, name="assess")
        step("dwh", start + DAY, services.problem_transition, by=grace, name="analyze")
        step("dwh", start + 2 * DAY, services.problem_save_whys, by=grace, whys=DWH["whys"])
        step("dwh", start + 3 * DAY, services.problem_note, by=grace, body=DWH["note"])
        overruns = (Q(title__icontains="load") | Q(title__icontains="timing out")
                    | Q(title__icontains="batch run"))
        for incident in self.incidents(overruns, service=self.cast.services["Data warehouse"])[-3:]:
            self.link("dwh", incident, start + 30 * MINUTE, by=grace)

    # --- knowledge --------------------------------------------------------------------------

    def knowledge(self) -> None:
        """(c) and (d): known errors and articles, each written by an agent and (but for the
        drafts) published by the problem manager a few hours later."""
        for spec in KNOWN_ERRORS:
            self._record(services.known_error_create, spec)
        for spec in ARTICLES:
            self._record(services.article_create, spec)

    def _record(self, create: Callable, spec: dict) -> None:
        spec = dict(spec)
        author, days, status = spec.pop("author"), spec.pop("days_ago"), spec.pop("status")
        spec["services"] = [self.cast.services[n] for n in spec.get("services", ())]
        spec["categories"] = [self.cast.categories[(n, None)] for n in spec.get("categories", ())]
        written = self.end - timedelta(days=days)
        holder: dict = {}
        self.plan(written, lambda: holder.update(record=create(by=self.user(author), **spec)))
        if status == KnowledgeStatus.DRAFT:
            return
        self.plan(written + 3 * HOUR, lambda: services.knowledge_set_status(
            record=holder["record"], by=self.manager, status=KnowledgeStatus.PUBLISHED))
        if status == KnowledgeStatus.RETIRED:
            self.plan(self.end - 6 * DAY, lambda: services.knowledge_set_status(
                record=holder["record"], by=self.manager, status=KnowledgeStatus.RETIRED))


# --- what they say -------------------------------------------------------------------------

VPN = {
    "title": "VPN disconnects every few minutes: the concentrator's session table fills up",
    "description": (
        "Since the start of the month the VPN disconnects every few minutes for people working "
        "from the home office, or they cannot connect to the VPN at all; the client shows "
        "error 809 or \"connection terminated by the remote peer\". Worst between 08:30 and "
        "10:00 when most staff connect; the VPN is slow for those who stay connected."),
    "whys": [
        ("Why do VPN users get disconnected every few minutes?",
         "The concentrator (vpn-gw-01) drops established tunnels to admit new connections."),
        ("Why does it drop tunnels to admit new ones?",
         "Its session table is full: all 500 licensed sessions are in use by mid-morning."),
        ("Why is the table full when only about 350 people work remotely at once?",
         "Sessions of laptops that went to sleep without disconnecting stay in the table "
         "until the 24-hour idle timeout."),
        ("Why is the idle timeout 24 hours?",
         "It was raised during the 2020 roll-out so that long file copies were not cut off, "
         "and never revisited."),
        ("Why did nobody notice the table filling up?",
         "Only the gateway's reachability is monitored, not its session-table usage."),
    ],
    "root_cause": (
        "The VPN concentrator vpn-gw-01 is licensed for 500 concurrent sessions and keeps idle "
        "sessions for 24 hours. Sleeping laptops leave their sessions behind, so by mid-morning "
        "the table is full and the concentrator drops the oldest tunnels to admit new ones; "
        "each dropped client reconnects at once and takes another session."),
    "contributing_factors": (
        "Remote working grew from about 300 to 650 daily users since the licence was sized. "
        "No alert on session-table usage. The client's automatic reconnect multiplies the "
        "churn."),
    "workaround": (
        "1. Ask the caller to disconnect the VPN client fully (tray icon → Disconnect) and wait "
        "30 seconds.\n"
        "2. Connect to the backup gateway: Profile → \"Backup gateway (vpn2.example.com)\".\n"
        "3. If the backup gateway is full too, Network Operations clears idle sessions on "
        "vpn-gw-01 (runbook \"VPN concentrator: clear idle sessions\").\n"
        "4. Resolve the incident with \"Workaround (known error)\"."),
    "permanent_fix": (
        "Raise the concentrator licence to 1,000 sessions, cut the idle timeout from 24 hours "
        "to 2 hours, and alert at 80% of the session table."),
    "change_reference": "CHG0004410",
    "note": ("CHG0004410 approved by the CAB: the licence upgrade and the 2-hour idle timeout "
             "go in during the next maintenance window. Incidents on hold awaiting this "
             "problem are resolved from here once it is in."),
}

DOCK = {
    "title": "Docking stations lose their external displays after the firmware push",
    "description": (
        "Since the dock firmware was pushed through Software Center, docks on several floors "
        "stop charging the laptop or leave the external displays black until re-plugged."),
}

DWH = {
    "title": "Nightly warehouse load overruns and blocks the morning reports",
    "description": (
        "Some nights the warehouse load does not finish before 07:00; reporting database "
        "queries time out until it does, and the finance morning reports are late."),
    "whys": [
        ("Why are the morning reports missing?",
         "The nightly load was still running at 07:00, so the reporting views were locked."),
        ("Why was the load still running at 07:00?",
         "The ERP extract took five hours instead of one on the nights after month-end "
         "postings."),
        ("Why does the ERP extract slow down after month-end?", ""),
        ("Why is there no alert when the load overruns its window?", ""),
    ],
    "note": ("Collecting the load's step timings for a week (dwh-prod job history) before "
             "changing anything; Dmitri checks the ERP extract's query plans."),
}

KNOWN_ERRORS = [
    {"title": "Outlook keeps asking for password after a password change",
     "symptoms": ("Outlook keeps asking for the password again and again, even when it is "
                  "typed correctly; Teams and web mail work. Usually right after the user "
                  "changed their password, or after an Office update."),
     "root_cause": ("Outlook keeps a stale sign-in token for the old password in Windows "
                    "Credential Manager and retries it instead of asking the identity "
                    "service for a new one."),
     "workaround": ("1. Close Outlook.\n2. Credential Manager → Windows Credentials: remove "
                    "every entry starting with MicrosoftOffice16_Data.\n3. Start Outlook and "
                    "sign in once.\n4. If the prompt comes back, create a new Outlook profile "
                    "(Control Panel → Mail → Show Profiles → Add)."),
     "services": ["Email"], "categories": ["Software"], "author": "omar.haddad",
     "days_ago": 24, "status": KnowledgeStatus.PUBLISHED},
    {"title": "Printer shows offline for the whole floor after the print server restarts",
     "symptoms": ("Every printer on a floor shows \"Offline\" and jobs stay in the queue "
                  "(\"Cannot print to PRN-HQ-02\"), mostly on Monday mornings after the "
                  "weekend's patch restart of srv-print-02."),
     "root_cause": ("After the patch restart the print spooler starts before the network is "
                    "ready and marks its TCP/IP printer ports offline."),
     "workaround": ("Restart the Print Spooler service on srv-print-02 (runbook \"Printer "
                    "offline: restart the print spooler\"); the queues come back within a "
                    "minute. Callers need not re-add the printer."),
     "services": ["Printing"], "categories": ["Hardware"], "author": "tom.becker",
     "days_ago": 19, "status": KnowledgeStatus.PUBLISHED},
    {"title": "Account keeps locking every morning: an old password saved on the phone",
     "symptoms": ("The account is locked out every morning, or again and again after a "
                  "password change; unlocking it helps for an hour at most."),
     "root_cause": ("The phone's mail app (or a second laptop) keeps trying the old password "
                    "in the background; after five failures Active Directory locks the "
                    "account."),
     "workaround": ("Unlock the account, then ask the caller to remove and re-add the mail "
                    "account on their phone with the new password (or sign out on the other "
                    "device). Event 4740 in the domain controller's security log names the "
                    "device that locks it."),
     "services": ["Identity & access"], "categories": ["Access"], "author": "priya.nair",
     "days_ago": 15, "status": KnowledgeStatus.PUBLISHED},
    {"title": "Blue screen when docking the laptop: outdated dock firmware",
     "symptoms": ("Blue screen (DPC_WATCHDOG_VIOLATION) on the laptop when docking, or the "
                  "dock's external displays stay black."),
     "root_cause": ("Docks on firmware older than 1.0.42 mishandle the laptop's new "
                    "Thunderbolt driver when it wakes up docked."),
     "workaround": ("Undock, update the dock firmware with Software Center → \"Dock firmware\", "
                    "restart the laptop, then dock again."),
     "services": ["Workplace devices"], "categories": ["Hardware"], "author": "sofia.lindqvist",
     "days_ago": 9, "status": KnowledgeStatus.PUBLISHED},
    {"title": "Excel crashes when opening large workbooks with the PDF add-in enabled",
     "symptoms": ("Excel crashes when opening the month-end close or budget workbooks; safe "
                  "mode (excel /safe) opens them."),
     "root_cause": "",
     "workaround": ("File → Options → Add-ins → COM Add-ins: untick the PDF add-in, restart "
                    "Excel."),
     "services": ["Office apps"], "categories": ["Software"], "author": "agent",
     "days_ago": 1, "status": KnowledgeStatus.DRAFT},
    {"title": "VPN client shows error 809 on hotel and guest networks",
     "symptoms": "The VPN client shows error 809 on hotel, airport or guest Wi-Fi.",
     "root_cause": ("The old IKEv2 profile needs UDP 500 and 4500, which many public networks "
                    "block."),
     "workaround": "Switch the client's profile to \"SSL (TCP 443)\" and connect again.",
     "services": ["Corporate VPN"], "categories": ["Network"], "author": "marco.rossi",
     "days_ago": 28, "status": KnowledgeStatus.RETIRED},
]

_CLEAR_SESSIONS = """\
Use this when the VPN disconnects every few minutes or nobody can connect: the session table
of **vpn-gw-01** is (nearly) full. Known error: *VPN disconnects every few minutes*.

## When

| session table | what to do |
| --- | --- |
| below 80% | nothing: look for another cause |
| 80–95% | clear idle sessions (below) |
| above 95% | clear idle sessions, then tell the problem owner |

## Check

```
ssh netops@vpn-gw-01
show vpn-sessiondb summary
show vpn-sessiondb anyconnect | include Idle
```
"""

_SPOOLER = """\
All printers of a floor show *Offline* and jobs wait in the queue. Known error: *Printer shows
offline for the whole floor after the print server restarts*.

## Restart the spooler

```powershell
Enter-PSSession srv-print-02
Restart-Service -Name Spooler -Force
Get-Printer | Where-Object PrinterStatus -ne 'Normal' | Select-Object Name, PrinterStatus
```

The queues come back within a minute; jobs already waiting print by themselves.
"""

_RESTORE = """\
Folders deleted from a departmental share come back from the share's snapshots without a
backup restore, if they are recent enough.

## Retention

| share | hourly snapshots | daily snapshots |
| --- | --- | --- |
| `\\\\files\\finance` | 48 hours | 30 days |
| `\\\\files\\projects` | 24 hours | 14 days |
| `\\\\files\\hr` | 48 hours | 90 days |

Older than that: restore from backup (ticket to Server & Storage).
"""

_MAJOR = """\
A P1, or a P2 on a mission-critical service, is a major incident.

## Who to call

| priority | first call | then, after 30 minutes |
| --- | --- | --- |
| P1 | the on-call engineer of the team (paged automatically) | the team manager |
| P2 | the team's queue | the on-call engineer |

## Status updates

Every 15 minutes for a P1, every hour for a P2, on the incident as a public comment.
"""

ARTICLES = [
    {"title": "VPN concentrator: clear idle sessions", "kind": ArticleKind.RUNBOOK,
     "audience": Audience.AGENTS,
     "symptoms": "VPN disconnects every few minutes; cannot connect to VPN; VPN very slow.",
     "body": _CLEAR_SESSIONS,
     "steps": ("1. Check the session table (above).\n"
               "2. Clear sessions idle for more than two hours: "
               "`vpn-sessiondb logoff idle 7200 noconfirm`.\n"
               "3. Check again: usage should drop below 70%.\n"
               "4. Add a work note with the figures to the incident and the problem."),
     "services": ["Corporate VPN"], "categories": ["Network"], "author": "lina.okafor",
     "days_ago": 6, "status": KnowledgeStatus.PUBLISHED},
    {"title": "Connect to the VPN from home", "kind": ArticleKind.ARTICLE,
     "audience": Audience.EVERYONE,
     "symptoms": "Cannot connect to VPN from home office; VPN client shows an error.",
     "body": ("## Before you start\n\nYou need your laptop, a working internet connection and "
              "your authenticator app.\n\n## If it disconnects\n\nDisconnect fully, wait 30 "
              "seconds and choose the **Backup gateway** profile."),
     "steps": ("1. Open the VPN client from the tray.\n"
               "2. Choose the profile **Company VPN** and click *Connect*.\n"
               "3. Sign in with your work account and approve the prompt on your phone.\n"
               "4. Wait for the green shield; file shares and the intranet now work."),
     "services": ["Corporate VPN"], "categories": ["Network"], "author": "marco.rossi",
     "days_ago": 27, "status": KnowledgeStatus.PUBLISHED},
    {"title": "Reset your password and set up MFA on a new phone",
     "kind": ArticleKind.ARTICLE, "audience": Audience.EVERYONE,
     "symptoms": "Password expired; MFA prompts not arriving on new phone; lost MFA token.",
     "body": ("## Password\n\nPasswords expire every 180 days. Choose at least 14 characters; "
              "a short sentence works well.\n\n## New phone\n\nBring your old phone if you "
              "still have it: moving the authenticator takes a minute. Without it, the "
              "service desk checks who you are by calling you back."),
     "steps": ("1. Go to https://passwordreset.example.com and sign in.\n"
               "2. Choose *Change password* and type the new one twice.\n"
               "3. On the new phone install the authenticator app.\n"
               "4. At https://mysignins.example.com choose *Add sign-in method* and scan the "
               "code.\n"
               "5. Update the password on your phone's mail app too, or your account will "
               "lock."),
     "services": ["Identity & access"], "categories": ["Access"], "author": "priya.nair",
     "days_ago": 22, "status": KnowledgeStatus.PUBLISHED},
    {"title": "Printer offline: restart the print spooler", "kind": ArticleKind.RUNBOOK,
     "audience": Audience.AGENTS,
     "symptoms": "Printer shows offline for the whole floor; cannot print.",
     "body": _SPOOLER,
     "steps": ("1. Check that the printer itself is on and shows no error.\n"
               "2. Restart the spooler on srv-print-02 (above).\n"
               "3. Print a test page to the caller's printer.\n"
               "4. Resolve with the known error's code if it was the whole floor."),
     "services": ["Printing"], "categories": ["Hardware"], "author": "tom.becker",
     "days_ago": 18, "status": KnowledgeStatus.PUBLISHED},
    {"title": "Outlook keeps asking for your password", "kind": ArticleKind.ARTICLE,
     "audience": Audience.EVERYONE,
     "symptoms": "Outlook keeps asking for password.",
     "body": ("This usually happens after you changed your password. Outlook still holds "
              "the old one; removing it makes Outlook ask once, and then it stops."),
     "steps": ("1. Close Outlook.\n"
               "2. Open *Credential Manager* from the Start menu and choose *Windows "
               "Credentials*.\n"
               "3. Remove the entries whose names start with `MicrosoftOffice16`.\n"
               "4. Start Outlook and sign in once.\n"
               "5. Still asking? Log an incident: the service desk re-creates your profile."),
     "services": ["Email"], "categories": ["Software"], "author": "omar.haddad",
     "days_ago": 23, "status": KnowledgeStatus.PUBLISHED},
    {"title": "Restore a deleted folder from a file-share snapshot",
     "kind": ArticleKind.RUNBOOK, "audience": Audience.AGENTS,
     "symptoms": "Restore deleted folder from a share.",
     "body": _RESTORE,
     "steps": ("1. Right-click the parent folder → *Properties* → *Previous Versions*.\n"
               "2. Open the newest snapshot from before the deletion.\n"
               "3. Copy the folder back (do not *Restore* the whole parent).\n"
               "4. Ask the caller to check the files, then resolve."),
     "services": ["File shares"], "categories": ["Infrastructure"], "author": "sven.larsen",
     "days_ago": 12, "status": KnowledgeStatus.PUBLISHED},
    {"title": "Major incidents: who to call and when", "kind": ArticleKind.ARTICLE,
     "audience": Audience.AGENTS, "symptoms": "",
     "body": _MAJOR, "steps": "",
     "author": "manager", "days_ago": 2, "status": KnowledgeStatus.DRAFT},
]
