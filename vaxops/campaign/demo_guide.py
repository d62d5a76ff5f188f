"""Where to look in the built demo: the pages of the site-days, with the login to use.

``where_to_look()`` reads the built database (the sessions the demo made) and names each
page by its URL; a page whose part is not installed is left out (``NoReverseMatch``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from vaxops.campaign.services import TZ


def _url(name: str, *args: Any, query: str = "") -> str | None:
    try:
        return reverse(name, args=args) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return None


def _screen(session: Any) -> str | None:
    """The Renzhuang big screen's URL frozen at 10:00 (its token is signed with the moment)."""
    try:
        from vaxops.visits.views import screen_token
    except ImportError:
        return None
    at = dt.datetime(2021, 5, 11, 10, 0, tzinfo=TZ)
    return _url("visits:screen", screen_token(session, at))


def where_to_look() -> list[tuple[str, str, str]]:
    """(what, path, login) of the demo's site-day pages, in the order a visitor would take them."""
    from vaxops.campaign import demo_jingxi, demo_sites
    from vaxops.sites.models import Session, SessionStatus

    today = timezone.now().astimezone(TZ).date()
    desk = Session.objects.filter(site__code="513301-MASS", date=today, status=SessionStatus.OPEN).first()
    refused = (Session.objects.filter(site__county_code="513301", date=today, status=SessionStatus.PLANNED,
                                      site__kind="township_health_centre").order_by("pk").first())
    gym = Session.objects.filter(site__code="513322-MASS", date__in=[dt.date(2021, 5, 29)]).first()
    renzhuang = Session.objects.filter(site__code=demo_jingxi.RENZHUANG_SITE, date=demo_jingxi.RENZHUANG_DAY).first()
    at_10 = "at=2021-05-11T10:00%2B08:00"
    rows: list[tuple[str, str | None, str]] = [
        ("session planner: Kangding's week from today", _url("sites:planner", query="county=513301"),
         "county_command"),
        ("today's session at the gymnasium (open; the desk records doses in it)",
         desk and _url("sites:session", desk.pk), "site_manager"),
        ("its readiness checklist (complete) and roster", desk and _url("staff:readiness", desk.pk), "site_manager"),
        ("the refused opening (cold-chain reading missing; the audit has session.open_refused)",
         refused and _url("sites:session", refused.pk), "county_command"),
        ("the report day's sessions, closed with their figures (week of 2021-05-31)",
         _url("sites:planner", query=f"county=513301&week={demo_sites.REPORT_DAY.isoformat()}"), "county_command"),
        ("Luding gymnasium on 2021-05-29: roster of the mass day, deployed teams",
         gym and _url("staff:roster", gym.pk), "prefecture_command"),
        ("support deployments (Luding; Jingxi: 37 staff of the Baise MCH hospital)", _url("staff:deployments"),
         "prefecture_command / jingxi_command"),
        ("staff and sessions short of their planned staff", _url("staff:county"), "county_command"),
        ("Renzhuang health centre, 2021-05-11: the board at 10:00",
         renzhuang and _url("visits:board", renzhuang.pk, query=at_10), "renzhuang_manager"),
        ("… its big screen at 10:00 (public, zh-Hans)", renzhuang and _screen(renzhuang), "no login"),
        ("… the same as JSON", renzhuang and f"/api/v1/sessions/{renzhuang.pk}/board?{at_10}", "renzhuang_manager"),
        ("… its site figures beside the simulator's prediction",
         renzhuang and _url("visits:figures", renzhuang.pk), "renzhuang_manager"),
        ("… the session with its final figures", renzhuang and _url("sites:session", renzhuang.pk),
         "jingxi_command"),
        ("… its readiness checklist and roster (the Baise MCH hospital's staff on it)",
         renzhuang and _url("staff:roster", renzhuang.pk), "jingxi_command"),
        ("Jingxi's planner, the week of 2021-05-11",
         _url("sites:planner", query="county=451081&week=2021-05-11"), "jingxi_command"),
        ("the prefecture's daily report of 2021-06-01 19:00 (issued, frozen; print it, download the xlsx)",
         _url("reports:daily", query="division=513300&date=2021-06-01&cutoff=19:00"), "prefecture_command"),
        ("… the same as xlsx", _url("reports:daily_xlsx", query="division=513300&date=2021-06-01&cutoff=19:00"),
         "prefecture_command"),
        ("Kangding's draft report of the same evening (issue it: the county command may)",
         _url("reports:daily", query="division=513301&date=2021-06-01&cutoff=19:00"), "county_command"),
        ("AEFI list with deadlines (Ganzi)", _url("safety:list"), "supervisor"),
        ("AEFI list (Jingxi: the serious case, reported in 78 minutes)", _url("safety:list"), "jingxi_command"),
        *_appointments(today),
        ("Ganzi's first-half-year first-dose targets at 2021-06-01 19:00 (all met ahead), counties ranked",
         _url("targets:progress", query="division=513300&at=2021-06-01T19:00"), "prefecture_command"),
        ("key groups of Ganzi (应种尽种: eligible, removed, coverage, the list still to reach)",
         _url("keygroups:overview", query="division=513300&at=2021-06-01T19:00"), "prefecture_command"),
        ("Kangding's key groups by unit (the hospital, 四川民族学院, the temples)",
         _url("keygroups:overview", query="division=513301&at=2021-06-01T19:00"), "county_command"),
        ("border-area residents of Jingxi", _url("keygroups:overview", query="division=451081&group=border_residents"),
         "jingxi_command"),
        *_outreach_rows(),
    ]
    return [(what, path, login) for what, path, login in rows if path]


def _appointments(today: dt.date) -> list[tuple[str, str | None, str]]:
    """The bookings of the coming days (issue 10, appointments; docs/appointments.md)."""
    from django.db.models import Count

    from vaxops.sites.models import Session

    busiest = (Session.objects.filter(site__county_code="513301", date__gt=today).annotate(n=Count("appointments"))
               .filter(n__gt=0).order_by("-n", "date", "pk").first())
    return [
        ("booking grid of the busiest Kangding session of the coming days (slots per dose, households)",
         busiest and _url("appointments:grid", busiest.pk), "county_command"),
        ("… the same slots as JSON", busiest and f"/api/v1/sessions/{busiest.pk}/slots", "county_command"),
    ]


__all__ = ["where_to_look"]


def _outreach_rows() -> list[tuple[str, str | None, str]]:
    """The outreach pages (part outreach): a grid of the demo's week of contacts on 2021-06-01."""
    try:
        from vaxops.campaign.demo_outreach import TOWNSHIP
        from vaxops.outreach.models import ContactAttempt
    except ImportError:
        return []
    first = ContactAttempt.objects.order_by("home_path").values_list("home_path", flat=True).first()
    grid = first.rstrip("/").rsplit("/", 1)[-1] if first else TOWNSHIP
    return [
        ("outreach: a grid's work list on 2021-06-01 (phone; outcome in two taps)",
         _url("outreach:worklist", query=f"division={grid}&on=2021-06-01"), "grid_worker"),
        ("outreach outcomes of the street office's grids, the most unreached first",
         _url("outreach:rollup", query=f"division={TOWNSHIP}"), "grid_worker / county_command"),
        ("the printable village list of that grid", _url("outreach:print", query=f"division={grid}&on=2021-06-01"),
         "grid_worker"),
    ]
