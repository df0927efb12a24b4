"""Demo issues for the shipped demo portals, in our own invented words.

Why this exists: a fresh install should show a lived-in map (every status, comments, votes,
a year and a half of history) without copying any real resident's report. Every issue goes
through `submit_report`, so routing, portal membership, search and the outbox behave exactly
as for a real report; only the timestamps are moved back afterwards.

Reproducible and idempotent: issue `n` of portal `slug` is drawn from its own seeded random
generator and carries the submission key `demo:<slug>:<n>`, so a second run adds nothing and
the same data comes out on every machine.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import geo
from portal.core.settings import Settings
from portal.models import Issue, Tenant, Update, utcnow
from portal.reports import status, voting
from portal.reports.reporting import ReportForm, existing_submission, submit_report
from portal.reports.routing import request_types_at
from portal.staff import accounts, permissions
from portal.tenancy import service_targets

# (title, description) per request type code; a few Spanish ones for portals offering "es".
TEXTS_EN: dict[str, list[tuple[str, str]]] = {
    "pothole": [
        ("Deep pothole in the right lane", "Deep hole in the right lane, cars swerve around it."),
        ("Pothole by the crosswalk",
         "Pothole right at the crosswalk; water fills it when it rains."),
        ("Road surface breaking up",
         "The patch from last winter has broken up again, about three feet wide."),
    ],
    "streetlight": [
        ("Streetlight out",
         "The light on the pole in front of number {num} has been dark for a week."),
        ("Light flickering all night",
         "Street lamp flickers on and off all night near the bus stop."),
    ],
    "graffiti": [
        ("Graffiti on the underpass", "New spray paint tags along the underpass wall."),
        ("Tags on a bench", "Someone painted tags on the bench at the corner."),
    ],
    "illegal-dumping": [
        ("Mattress dumped",
         "A mattress and two bags of trash left on the curb since the weekend."),
        ("Old tires in the lot", "About six old tires dumped behind the empty lot."),
    ],
    "sidewalk": [
        ("Raised sidewalk slab",
         "Sidewalk slab lifted by tree roots, easy to trip on in the dark."),
        ("Broken sidewalk", "Cracked and sunken sidewalk, hard to pass with a stroller."),
    ],
    "missed-trash": [
        ("Trash not picked up", "Our block's trash was not collected on the usual day."),
        ("Recycling missed", "Recycling bins on this side of the street were skipped again."),
    ],
    "park-maintenance": [
        ("Overflowing bins in the park", "The bins by the basketball court are overflowing."),
        ("Broken bench", "One of the benches on the main path has a broken slat."),
    ],
    "fallen-tree": [
        ("Large branch down", "A large branch fell after the storm and blocks half the path."),
        ("Tree leaning over the road", "A tree is leaning over the road and looks ready to fall."),
    ],
    "playground": [
        ("Swing chain broken", "One swing has a broken chain; children still try to use it."),
        ("Loose slide step", "The ladder step on the small slide is loose."),
    ],
    "highway-sign": [
        ("Exit sign knocked down",
         "The exit sign on the ramp was knocked down, probably by a truck."),
        ("Faded speed sign", "Speed limit sign is so faded it cannot be read at night."),
    ],
    "traffic-signal": [
        ("Signal stuck on red", "The signal is stuck on red in one direction; drivers run it."),
        ("Walk signal not working",
         "Pedestrian button does nothing; the walk sign never comes on."),
    ],
    "guardrail": [
        ("Bent guardrail", "Guardrail bent outward after a crash, sharp end sticking out."),
    ],
    "building-maintenance": [
        ("Door does not close", "The side door of the library annex does not latch."),
        ("Leak in the stairwell",
         "Water drips from the ceiling in the north stairwell when it rains."),
    ],
    "bike-rack": [
        ("Bike rack full", "The rack by the dining hall is always full; could use a second one."),
        ("Abandoned bike", "A bike with no wheels has been locked to the rack for months."),
    ],
    "accessibility": [
        ("Door opener broken", "The automatic door button at the main entrance does not work."),
        ("Ramp blocked", "Construction fencing blocks the ramp to the side entrance."),
    ],
}
TEXTS_ES: dict[str, list[tuple[str, str]]] = {
    "pothole": [("Bache profundo",
                 "Hay un bache profundo en el carril derecho; los coches lo esquivan.")],
    "streetlight": [("Farola apagada",
                     "La farola frente al número {num} lleva una semana apagada.")],
    "graffiti": [("Grafiti en la pared", "Pintaron grafitis nuevos en la pared de la esquina.")],
    "illegal-dumping": [("Basura tirada", "Dejaron un colchón y bolsas de basura en la acera.")],
    "sidewalk": [("Acera rota", "La acera está levantada y es fácil tropezar.")],
    "missed-trash": [("No recogieron la basura", "No pasaron a recoger la basura de esta cuadra.")],
    "park-maintenance": [("Parque descuidado", "Los botes de basura del parque están llenos.")],
    "fallen-tree": [("Rama caída", "Una rama grande cayó con la tormenta y bloquea el paso.")],
    "playground": [("Columpio roto", "Un columpio tiene la cadena rota.")],
}
GENERIC = [("Problem here", "Something here needs a look from the city, please.")]
COMMENTS = {
    "en": ["Still there this morning.", "Same problem on the next block too.",
           "Thanks for looking into this!", "Crews were here today."],
    "es": ["Sigue igual esta semana.", "Gracias por revisarlo."],
}
STAFF_NOTES = {
    "acknowledged": "Thanks, a crew has been scheduled.",
    "closed": "Fixed by the crew today.",
    "archived": "",
}
FIRST = ["Ana", "Luis", "Grace", "Tom", "Priya", "Kwame", "Mei", "Jordan", "Sofía", "Hannah",
         "Omar", "Lena", "Tuan", "Rosa", "Ibrahim", "Claire"]
LAST = ["M.", "R.", "K.", "T.", "O.", "S.", "D.", "B.", "L.", "N."]
# Status by position, so even a handful of issues per portal shows all four.
PATTERN = ("open", "acknowledged", "closed", "open", "closed", "archived", "acknowledged",
           "open", "closed", "closed")
# Age range in days by final status: archived issues are old, open ones mostly recent.
AGES = {"open": (0, 200), "acknowledged": (3, 300), "closed": (10, 540), "archived": (270, 545)}
STEPS = {"open": [], "acknowledged": ["acknowledged"], "closed": ["acknowledged", "closed"],
         "archived": ["acknowledged", "closed", "archived"]}


def random_point(rng: random.Random, tenant: Tenant, tries: int = 2000) -> tuple[float, float]:
    """A point inside the portal's area, by rejection sampling within its bounding box."""
    for _ in range(tries):
        lat = rng.uniform(tenant.min_lat, tenant.max_lat)
        lon = rng.uniform(tenant.min_lon, tenant.max_lon)
        if geo.contains(tenant.area_geojson, lat, lon):
            return round(lat, 6), round(lon, 6)
    return geo.centre(tenant.area_geojson)


def _text(rng: random.Random, code: str, spanish: bool) -> tuple[str, str, str]:
    if spanish and code in TEXTS_ES:
        title, text = rng.choice(TEXTS_ES[code])
        locale = "es"
    else:
        title, text = rng.choice(TEXTS_EN.get(code, GENERIC))
        locale = "en"
    return title, text.format(num=rng.randint(2, 480)), locale


def _form(rng: random.Random, session: Session, tenant: Tenant, key: str) -> ReportForm | None:
    lat, lon = random_point(rng, tenant)
    offered = request_types_at(session, tenant, lat, lon)
    if not offered:
        return None
    rt = rng.choice(offered)
    spanish = "es" in tenant.languages and rng.random() < 0.25
    title, description, locale = _text(rng, rt.code, spanish)
    form = ReportForm(lat=str(lat), lon=str(lon), request_type=rt.key, description=description,
                      title=title if rng.random() < 0.7 else "", locale=locale,
                      submission_key=key)
    if not tenant.allow_anonymous or rng.random() < 0.5:  # half give a name, most show it
        first, last = rng.choice(FIRST), rng.choice(LAST)
        form.name = f"{first} {last}"
        form.email = f"{first.lower()}.{last[0].lower()}@example.org".replace("í", "i")
        form.show_name = rng.random() < 0.8
        # A politician's constituents: half of those who leave an email let the office
        # contact them (their own draw, so the other portals' demo stays as it was).
        form.office_contact = (tenant.kind == permissions.POLITICIAN
                               and random.Random(key + ":office").random() < 0.5)
    return form


def _history(rng: random.Random, session: Session, issue: Issue, final: str, key: str) -> None:
    """Backdate the issue, walk it to its final status, add comments and votes."""
    now = utcnow()
    low, high = AGES[final]
    created = now - timedelta(days=rng.uniform(low, high), minutes=rng.randint(0, 1440))
    issue.created_at = created
    service_targets.set_due_times(session, issue)  # the body's promise from the backdated report
    for update in session.scalars(select(Update).where(Update.issue_id == issue.id)):
        update.created_at = created  # the "created" row submit_report wrote
    for index in range(rng.choice((0, 0, 1, 2, 3, 5, 8))):  # while it is open: votes are
        voting.vote(session, issue, f"{key}:v{index}")        # for issues still to fix
    when = created
    for step in STEPS[final]:
        when = when + (now - when) * rng.uniform(0.05, 0.4)
        change = status.change_status(session, issue, step, author="Demo crew",
                                      text=STAFF_NOTES[step])
        change.created_at = when
    comments = COMMENTS["es" if issue.locale == "es" else "en"]
    for index in range(rng.choice((0, 0, 0, 1, 1, 2))):
        comment = status.add_comment(session, issue, rng.choice(comments),
                                     author=rng.choice(("", rng.choice(FIRST))),
                                     submission_key=f"{key}:c{index}")
        comment.created_at = created + (now - created) * rng.uniform(0.1, 0.9)
        when = max(when, comment.created_at)
    issue.updated_at = when


def demo_office_email(tenant: Tenant) -> str:
    """The demo office member of a politician portal (the sign-in link is in the outbox)."""
    return f"office.{tenant.slug}@example.org"


def seed_demo_issues(session: Session, settings: Settings, count_per_portal: int = 40) -> int:
    """Add `count_per_portal` demo issues to every portal; returns how many were new.

    Runs in the caller's transaction (commit afterwards). Needs tenants loaded first.
    """
    created = 0
    for tenant in session.scalars(select(Tenant).order_by(Tenant.slug)).all():
        if tenant.kind == permissions.POLITICIAN:  # its office, to sign in as at /signin
            accounts.add_role(session, demo_office_email(tenant), permissions.OFFICE,
                              tenant=tenant)
        for n in range(count_per_portal):
            key = f"demo:{tenant.slug}:{n}"
            if existing_submission(session, key) is not None:
                continue
            rng = random.Random(key)
            form = _form(rng, session, tenant, key)
            if form is None:
                continue
            issue = submit_report(session, tenant, form, settings.media_dir,
                                  settings.max_photo_bytes)
            _history(rng, session, issue, PATTERN[n % len(PATTERN)], key)
            session.flush()
            created += 1
    return created
