"""The demo organisation: teams, people, services, taxonomy, routing and what goes wrong.

Plain data, shared by `seed_demo` (a few hundred incidents worked through the services) and
`seed_scale` (a million rows by COPY), so both tell the same story.
"""

from dataclasses import dataclass

from itsm.choices import Criticality, Role, Tier

DEMO_PASSWORD = "demo"  # every named demo user but the fixed logins below

# (login, password, role): printed at the end of `seed_demo` and by `make run`.
LOGINS = [
    ("agent", "agent", Role.AGENT),
    ("manager", "manager", Role.MANAGER),
    ("admin", "admin", Role.ADMIN),
    ("requester", "requester", Role.REQUESTER),
    ("problems", "problems", Role.PROBLEM_MANAGER),
]


@dataclass(frozen=True)
class TeamSpec:
    name: str
    tier: Tier
    next_tier: str | None
    manager: str


TEAMS = [
    TeamSpec("Service Desk", Tier.L1, "Applications Support", "manager"),
    TeamSpec("Network Operations", Tier.L2, "Vendor Support", "helen.park"),
    TeamSpec("Server & Storage", Tier.L2, "Infrastructure Engineering", "ravi.shah"),
    TeamSpec("Database Administration", Tier.L2, "Vendor Support", "ravi.shah"),
    TeamSpec("Applications Support", Tier.L2, "Infrastructure Engineering", "manager"),
    TeamSpec("Infrastructure Engineering", Tier.L3, None, "ravi.shah"),
    TeamSpec("Vendor Support", Tier.L3, None, "helen.park"),
]
# The team whose existence says "the demo is loaded" (seed_demo runs in one transaction).
MARKER_TEAM = "Service Desk"


@dataclass(frozen=True)
class UserSpec:
    username: str
    first_name: str
    last_name: str
    role: Role
    teams: tuple[str, ...] = ()
    department: str = ""


USERS = [
    UserSpec("admin", "Adrian", "Cole", Role.ADMIN),
    UserSpec("manager", "Maya", "Patel", Role.MANAGER, ("Service Desk", "Applications Support")),
    UserSpec("helen.park", "Helen", "Park", Role.MANAGER, ("Network Operations",)),
    UserSpec("ravi.shah", "Ravi", "Shah", Role.MANAGER, ("Server & Storage",)),
    # The problem manager works causes across teams, so she is on no team's queue or roster.
    UserSpec("problems", "Nora", "Quinn", Role.PROBLEM_MANAGER),
    UserSpec("agent", "Alex", "Kowalski", Role.AGENT, ("Service Desk",)),
    UserSpec("priya.nair", "Priya", "Nair", Role.AGENT, ("Service Desk",)),
    UserSpec("tom.becker", "Tom", "Becker", Role.AGENT, ("Service Desk",)),
    UserSpec("sofia.lindqvist", "Sofia", "Lindqvist", Role.AGENT, ("Service Desk",)),
    UserSpec("lina.okafor", "Lina", "Okafor", Role.AGENT, ("Network Operations",)),
    UserSpec("marco.rossi", "Marco", "Rossi", Role.AGENT, ("Network Operations",)),
    UserSpec("sven.larsen", "Sven", "Larsen", Role.AGENT, ("Server & Storage",)),
    UserSpec("ana.silva", "Ana", "Silva", Role.AGENT, ("Server & Storage",)),
    UserSpec("dmitri.volkov", "Dmitri", "Volkov", Role.AGENT, ("Database Administration",)),
    UserSpec("grace.kim", "Grace", "Kim", Role.AGENT, ("Database Administration",)),
    UserSpec("omar.haddad", "Omar", "Haddad", Role.AGENT, ("Applications Support",)),
    UserSpec("julia.weber", "Julia", "Weber", Role.AGENT, ("Applications Support",)),
    UserSpec("ken.tanaka", "Ken", "Tanaka", Role.AGENT, ("Infrastructure Engineering",)),
    UserSpec("fatima.zahra", "Fatima", "Zahra", Role.AGENT, ("Infrastructure Engineering",)),
    UserSpec("lucas.martin", "Lucas", "Martin", Role.AGENT, ("Vendor Support",)),
    UserSpec("nadia.brooks", "Nadia", "Brooks", Role.AGENT, ("Vendor Support",)),
    UserSpec("requester", "Rebecca", "Stone", Role.REQUESTER, department="Finance"),
    *(
        UserSpec(f"{first.lower()}.{last.lower()}", first, last, Role.REQUESTER,
                 department=department)
        for first, last, department in [
            ("Emma", "Johnson", "Finance"), ("Noah", "Williams", "Sales"),
            ("Olivia", "Brown", "Marketing"), ("Liam", "Garcia", "Warehouse"),
            ("Ava", "Miller", "HR"), ("Ethan", "Davis", "Sales"),
            ("Mia", "Rodriguez", "Customer Care"), ("Lucas", "Fischer", "Engineering"),
            ("Chloe", "Dubois", "Legal"), ("Mateo", "Lopez", "Warehouse"),
            ("Hannah", "Schmidt", "Finance"), ("Yusuf", "Demir", "Logistics"),
            ("Isabella", "Conti", "Procurement"), ("Daniel", "Novak", "Customer Care"),
            ("Zoe", "Andersen", "Marketing"), ("Samuel", "Okoye", "Sales"),
            ("Laura", "Jansen", "HR"), ("Arjun", "Mehta", "Engineering"),
            ("Elena", "Petrova", "Finance"), ("Felix", "Wagner", "Executive office"),
        ]
    ),
]
# Alerts come in through this account (an agent, so it may log for others; it cannot log in).
MONITORING_USER = UserSpec("monitoring", "Monitoring", "(Zabbix)", Role.AGENT)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    criticality: Criticality
    owner: str
    description: str


C = Criticality
SERVICES = [
    ServiceSpec("ERP", C.MISSION_CRITICAL, "Applications Support",
                "Finance, purchasing and inventory (SAP S/4HANA)."),
    ServiceSpec("Customer web shop", C.MISSION_CRITICAL, "Applications Support",
                "The public online shop, checkout and payment integration."),
    ServiceSpec("Identity & access", C.MISSION_CRITICAL, "Server & Storage",
                "Active Directory, single sign-on and multi-factor authentication."),
    ServiceSpec("Email", C.BUSINESS_CRITICAL, "Applications Support",
                "Exchange Online mailboxes, calendars and shared mailboxes."),
    ServiceSpec("Corporate VPN", C.BUSINESS_CRITICAL, "Network Operations",
                "Remote access for staff working from home or travelling."),
    ServiceSpec("Campus network", C.BUSINESS_CRITICAL, "Network Operations",
                "Wired LAN, core switches, firewalls and internet access at all sites."),
    ServiceSpec("CRM", C.BUSINESS_CRITICAL, "Applications Support",
                "Accounts, leads and the sales pipeline."),
    ServiceSpec("Wi-Fi", C.BUSINESS_OPERATIONAL, "Network Operations",
                "Staff and guest wireless networks."),
    ServiceSpec("File shares", C.BUSINESS_OPERATIONAL, "Server & Storage",
                "Departmental shares, home drives and their backups."),
    ServiceSpec("Data warehouse", C.BUSINESS_OPERATIONAL, "Database Administration",
                "Reporting database and nightly loads from ERP and CRM."),
    ServiceSpec("Telephony", C.BUSINESS_OPERATIONAL, "Network Operations",
                "Desk phones, softphones, the hotline and conference rooms."),
    ServiceSpec("Office apps", C.BUSINESS_OPERATIONAL, "Applications Support",
                "Word, Excel, Teams and browsers on managed devices."),
    ServiceSpec("Workplace devices", C.BUSINESS_OPERATIONAL, "Service Desk",
                "Laptops, desktops, monitors, docks and company phones."),
    ServiceSpec("Printing", C.ADMINISTRATIVE, "Service Desk",
                "Floor printers, scan-to-email and print queues."),
]


@dataclass(frozen=True)
class Scenario:
    """One kind of incident: where it is filed, who fixes it and how it is usually described."""

    category: str
    subcategory: str
    service: str
    specialist: str  # the team that ends up fixing it (the routed team may hand it over)
    titles: tuple[str, ...]
    fixes: tuple[str, ...]
    weight: int = 3  # how common it is, relative to the others
    alerts: tuple[str, ...] = ()  # titles raised by monitoring rather than by a person


def _s(category, subcategory, service, specialist, titles, fixes, weight=3, alerts=()):
    return Scenario(category, subcategory, service, specialist, tuple(titles), tuple(fixes),
                    weight, tuple(alerts))


SD, NET, SRV, DBA, APPS = ("Service Desk", "Network Operations", "Server & Storage",
                           "Database Administration", "Applications Support")
SCENARIOS = [
    _s("Network", "VPN", "Corporate VPN", NET, [
        "VPN disconnects every few minutes", "Cannot connect to VPN from home office",
        "VPN client shows error 809", "VPN connected but no access to file shares",
        "VPN very slow for the {site} team"],
       ["Re-issued the VPN certificate; connection stable for 30 minutes.",
        "Reinstalled the VPN client and reset its profile.",
        "Raised the concentrator's session limit; the tunnel no longer drops."], weight=5),
    _s("Network", "Wi-Fi", "Wi-Fi", NET, [
        "No Wi-Fi in {building} meeting rooms on floor {floor}",
        "Wi-Fi drops when moving between floors", "Guest Wi-Fi portal not loading",
        "Wi-Fi very slow on floor {floor} of {building}"],
       ["Rebooted access point AP-{floor}{desk}; clients reconnected.",
        "Moved the floor to a less crowded 5 GHz channel plan.",
        "Renewed the guest portal certificate."], weight=4),
    _s("Network", "LAN & cabling", "Campus network", NET, [
        "Network port dead at desk {desk}", "No network on floor {floor} in {building}",
        "Switch in the floor {floor} comms room keeps rebooting"],
       ["Re-patched the desk port in the comms room.",
        "Replaced the failed switch power supply."],
       alerts=["[Zabbix] sw-{site}-{floor}: interface Gi0/{desk} down",
               "[Zabbix] sw-{site}-{floor}: unreachable"]),
    _s("Network", "Firewall", "Campus network", NET, [
        "Partner SFTP transfer blocked by the firewall",
        "Cannot reach the supplier portal from the office"],
       ["Added the partner's new IP range to the allow-list (change approved)."], weight=1),
    _s("Network", "DNS", "Campus network", NET, [
        "Intranet name does not resolve from {site}",
        "Intermittent DNS failures on internal names"],
       ["Fixed a stale forwarder on the {site} domain controller."], weight=1),
    _s("Hardware", "Laptop", "Workplace devices", SD, [
        "Laptop {asset} won't boot after the update", "Laptop battery drains within an hour",
        "Laptop keyboard: several keys not working",
        "Blue screen on laptop {asset} when docking", "Laptop overheating and shutting down"],
       ["Rolled back the faulty driver update; laptop boots normally.",
        "Replaced the battery under warranty.",
        "Swapped the laptop for a loaner while the original is repaired."], weight=6),
    _s("Hardware", "Desktop", "Workplace devices", SD, [
        "PC at reception does not power on",
        "Desktop {asset} extremely slow since this morning"],
       ["Replaced the power supply.", "Removed a runaway indexing job and freed disk space."]),
    _s("Hardware", "Monitor", "Workplace devices", SD, [
        "Second monitor not detected", "Monitor flickering at desk {desk}"],
       ["Replaced the DisplayPort cable.", "Updated the graphics driver."], weight=2),
    _s("Hardware", "Printer", "Printing", SD, [
        "Printer {printer} jams on every job", "Cannot print to {printer}",
        "Printer {printer} shows offline for the whole floor", "Printer prints blank pages",
        "Scan to email not working on printer {printer}"],
       ["Cleared the jam and replaced the worn pickup roller.",
        "Re-added the print queue on the print server.",
        "Replaced the toner cartridge; test page OK."], weight=6),
    _s("Hardware", "Mobile phone", "Workplace devices", SD, [
        "Company phone not receiving email", "Phone screen cracked, needs replacement"],
       ["Re-enrolled the phone in device management.", "Issued a replacement phone."],
       weight=2),
    _s("Hardware", "Docking station", "Workplace devices", SD, [
        "Docking station not charging the laptop",
        "Dock: external displays stay black"],
       ["Updated the dock firmware.", "Replaced the docking station."], weight=2),
    _s("Software", "Email", "Email", APPS, [
        "Outlook keeps asking for password", "Emails to external domains bounce",
        "Shared mailbox {mailbox} not visible in Outlook", "Calendar invites arrive hours late",
        "Mailbox full, cannot send"],
       ["Cleared cached credentials and re-created the Outlook profile.",
        "Corrected the SPF record for the new sending service.",
        "Granted full access to the shared mailbox; it appears after restart."], weight=6),
    _s("Software", "Office suite", "Office apps", SD, [
        "Excel crashes when opening the {report} workbook",
        "Word documents open read-only from SharePoint", "Teams meeting audio cuts out"],
       ["Repaired the Office installation.", "Disabled the faulty add-in."], weight=4),
    _s("Software", "ERP", "ERP", APPS, [
        "ERP: purchase orders stuck in approval", "ERP login fails with error SAP-{code}",
        "ERP month-end report times out",
        "Invoice posting fails in ERP for company code {cc}"],
       ["Restarted the stuck workflow and re-queued the approvals.",
        "Re-imported the missing exchange rates; postings go through.",
        "Added an index recommended by the vendor; the report runs in 40 s."], weight=4,
       alerts=["[Zabbix] erp-app-0{n}: work process queue above 200"]),
    _s("Software", "CRM", "CRM", APPS, [
        "CRM very slow when opening accounts", "CRM sync with Outlook stopped",
        "Cannot export leads from CRM"],
       ["Re-authorised the Outlook sync connector.", "Rebuilt the account search index."]),
    _s("Software", "Browser", "Office apps", SD, [
        "Intranet shows a certificate warning",
        "Browser blocks pop-ups needed by the payroll portal"],
       ["Pushed the updated browser policy to the device."], weight=2),
    _s("Software", "Web shop", "Customer web shop", APPS, [
        "Web shop checkout returns error 500", "Web shop product images not loading",
        "Payment provider callback failing on the web shop"],
       ["Rolled back release {code}; checkout works again.",
        "Purged the CDN cache for the image host."], weight=2,
       alerts=["[Zabbix] shop-web-0{n}: HTTP 5xx rate above 5%"]),
    _s("Access", "Password reset", "Identity & access", SD, [
        "Password reset for {person}", "Password expired while on leave",
        "Cannot change password: complexity error"],
       ["Reset the password after verifying identity by call-back."], weight=6),
    _s("Access", "Account locked", "Identity & access", SD, [
        "Account locked out after password change", "Account keeps locking every morning"],
       ["Removed the stale credentials from the phone's mail app and unlocked the account."],
       weight=4),
    _s("Access", "Permissions", "File shares", SRV, [
        "Need access to the {share} share", "Access denied to finance folder after team move",
        "Cannot open the payroll report: permission error"],
       ["Added the user to the share's access group (approved by the data owner)."],
       weight=4),
    _s("Access", "Multi-factor authentication", "Identity & access", SD, [
        "MFA prompts not arriving on new phone", "Lost MFA token, cannot sign in"],
       ["Re-registered the authenticator app after identity check."], weight=3),
    _s("Infrastructure", "Server", "File shares", SRV, [
        "{server} not responding", "High CPU on {server} since the deployment",
        "Scheduled job failed on {server}"],
       ["Restarted the hung service and added a watchdog.",
        "Rolled back the deployment; CPU back to normal."], weight=2,
       alerts=["[Zabbix] {server}: ping unreachable", "[Zabbix] {server}: CPU above 95% for 15m"]),
    _s("Infrastructure", "Storage", "File shares", SRV, [
        "File share {share} almost full", "Slow file access on {share}"],
       ["Extended the volume by 500 GB.", "Moved old project data to the archive tier."],
       weight=2, alerts=["[Zabbix] {server}: disk /data above 95%"]),
    _s("Infrastructure", "Backup & restore", "File shares", SRV, [
        "Restore deleted folder from {share}", "Nightly backup failed for {server}"],
       ["Restored the folder from last night's snapshot.",
        "Re-ran the backup after clearing the stale lock."], weight=3),
    _s("Infrastructure", "Database", "Data warehouse", DBA, [
        "Reporting database queries timing out", "Deadlocks in {db} during the batch run",
        "Nightly warehouse load did not finish"],
       ["Re-ran the load with the corrected source extract.",
        "Added the missing index; report time down from 9 min to 12 s."], weight=2,
       alerts=["[Zabbix] {db}: replication lag above 300 s"]),
    _s("Telephony", "Desk phone", "Telephony", NET, [
        "Desk phone shows 'No service'", "Cannot transfer calls to the hotline"],
       ["Re-provisioned the handset.", "Fixed the hunt-group configuration."], weight=2),
    _s("Telephony", "Softphone", "Telephony", NET, [
        "Softphone echo on every call", "Softphone not registering after the update"],
       ["Switched the headset to the approved firmware."], weight=2),
    _s("Telephony", "Conference room", "Telephony", SD, [
        "Conference room {room} video system won't start",
        "No audio in conference room {room}"],
       ["Power-cycled the codec and updated its firmware."], weight=2),
]


# Impact weights (high, medium, low) by category: one broken laptop rarely stops a department.
IMPACT_WEIGHTS = {"Hardware": (2, 15, 83), "Access": (3, 20, 77), "Telephony": (5, 30, 65)}
DEFAULT_IMPACT_WEIGHTS = (12, 40, 48)
URGENCY_WEIGHTS = (15, 45, 40)


@dataclass(frozen=True)
class RuleSpec:
    position: int
    category: str | None
    subcategory: str | None
    service: str | None
    team: str


# First match wins: specialist areas go straight to L2, the rest to the service desk.
ROUTING = [
    RuleSpec(10, "Infrastructure", "Database", None, "Database Administration"),
    RuleSpec(20, "Infrastructure", None, None, "Server & Storage"),
    RuleSpec(30, None, None, "Customer web shop", "Applications Support"),
    RuleSpec(40, "Software", "ERP", None, "Applications Support"),
    RuleSpec(50, "Network", "Firewall", None, "Network Operations"),
    RuleSpec(60, "Network", "DNS", None, "Network Operations"),
    RuleSpec(70, "Telephony", None, None, "Network Operations"),
    RuleSpec(100, "Network", None, None, "Service Desk"),
    RuleSpec(110, "Hardware", None, None, "Service Desk"),
    RuleSpec(120, "Software", None, None, "Service Desk"),
    RuleSpec(130, "Access", None, None, "Service Desk"),
]

# Words the templates above fill in.
WORDS = {
    "site": ["Berlin", "Lyon", "Leeds", "Rotterdam", "HQ"],
    "building": ["HQ", "Building B", "the warehouse", "the Lyon office"],
    "floor": ["1", "2", "3", "4", "5"],
    "desk": ["12", "17", "23", "31", "44", "58"],
    "asset": ["LT-4821", "LT-5107", "LT-3390", "PC-1184", "LT-6023"],
    "printer": ["PRN-HQ-02", "PRN-HQ-04", "PRN-B-01", "PRN-WH-03"],
    "mailbox": ["accounts-payable", "hr-recruiting", "customer-care", "sales-emea"],
    "report": ["budget 2026", "month-end close", "sales forecast"],
    "code": ["1042", "2231", "7710", "4410"],
    "cc": ["1000", "2100", "3300"],
    "person": ["a new starter in Sales", "the CFO's assistant", "a warehouse shift lead"],
    "share": ["\\\\files\\finance", "\\\\files\\projects", "\\\\files\\hr"],
    "server": ["srv-app-03", "srv-file-01", "srv-print-02", "srv-batch-01"],
    "db": ["dwh-prod", "erp-db-01", "crm-db-02"],
    "room": ["Atlas", "Baltic", "Everest", "Danube"],
    "n": ["1", "2", "3"],
    "time": ["07:50", "08:15", "09:40", "11:05", "13:30", "16:20"],
    "count": ["two", "three", "five", "a dozen"],
    "hex": ["80070005", "8004010F", "800CCC0E", "80040154"],
}


def fill(template: str, rng) -> str:
    """The template with each {word} replaced by a random choice from WORDS."""
    return template.format_map(_Words(rng))


class _Words(dict):
    def __init__(self, rng):
        super().__init__()
        self.rng = rng

    def __missing__(self, key):
        return self.rng.choice(WORDS[key])

DETAILS = [
    "Started around {time} today.",
    "Happens several times a day since yesterday.",
    "Affects me and at least {count} colleagues.",
    "Only happens in the {site} office.",
    "Restarting did not help.",
    "I need this for a customer deadline this afternoon.",
    "Error message: \"The operation could not be completed (0x{hex})\".",
    "Worked fine until last week's update.",
]
AGENT_COMMENTS = [
    "Thanks for reporting this; I'm looking into it now.",
    "Could you send a screenshot of the error message?",
    "Can you tell me when it last worked, and whether colleagues are affected too?",
    "We have applied a fix. Could you try again and let us know?",
    "This is with the specialist team now; we'll update you as soon as we know more.",
    "I'll call you in ten minutes to take a look remotely.",
]
CALLER_COMMENTS = [
    "Screenshot attached. Same error as before.",
    "It happened again this morning.",
    "Three people in my team have the same problem now.",
    "I'm available all afternoon if you need to call.",
    "Any update? This is blocking our month-end work.",
]
WORK_NOTES = [
    "Checked the event log: repeated authentication failures from the user's phone.",
    "Reproduced on a test device; not user-specific.",
    "Restarted the service, monitoring for an hour before telling the caller.",
    "Opened vendor case VND-{code}{n}.",
    "Looks related to last night's change CHG00{code}.",
    "Remote session: collected logs, attached to the case.",
    "Same symptom reported from {site}; checking for a common cause.",
]
HOLD_REASONS = {
    "awaiting_caller": "Waiting for the caller to try the fix when back in the office.",
    "awaiting_vendor": "Vendor case opened; waiting for their engineer.",
    "awaiting_change": "Fix needs a change; scheduled for the next window.",
    "awaiting_problem": "Linked to an open problem; waiting for the root-cause fix.",
}
ESCALATIONS = [
    "Needs a configuration change we cannot make at this tier.",
    "Root cause looks like a product defect; needs engineering.",
    "Beyond our runbooks; handing over with logs attached.",
]
CANCEL_REASONS = [
    "Duplicate of an incident already being worked.",
    "Logged in error: this is a service request, not an incident.",
    "Caller confirmed the issue disappeared before anyone looked at it.",
]
