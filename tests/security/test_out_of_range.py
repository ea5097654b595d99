"""Every URL that takes a year, a month or a date answers nonsense with 400 or 404, never 500.

The walk covers every URL pattern of the project (web pages, API, admin changelists): path
parameters named like a period get out-of-range values; query parameters get them where the
view's module reads them (found in its source, as `request.GET` or `query_params`).
"""

from __future__ import annotations

import inspect
import re
import sys
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.cache import cache
from django.urls import reverse

from cer.core.converters import FIRST_YEAR, LAST_YEAR
from tests.api.conftest import client_for
from tests.api.routes import SAMPLE_ARGUMENTS as API_ARGUMENTS
from tests.api.routes import WORLD_KEYS, api_routes
from tests.factories.worlds import build_world
from tests.permissions.objects import sample_object
from tests.permissions.test_route_matrix import SAMPLE_ARGUMENTS as WEB_ARGUMENTS
from tests.permissions.test_route_matrix import project_routes

pytestmark = pytest.mark.django_db

PERIOD_PATH_PARAMETERS = {"year", "month", "quarter", "date", "day"}
QUERY_PARAMETERS = ("year", "month", "date", "from", "to", "period")
BAD_VALUES = ("99999", "0", "-1", "13", "2025-13-45", "abc", "9999", "2101")
BAD_QUERY_VALUES = (*BAD_VALUES, "9999-12", "2101-01", "2025-00", "0000-Q1", "2025-02-30")
# Two valid path values that differ in their first and last characters: where the two
# reversed URLs differ is where the parameter sits.
PROBES = ("1111", "2222")


def _reads(module_name: str) -> set[str]:
    """Return the query parameters of QUERY_PARAMETERS a module reads from the request."""
    source = inspect.getsource(sys.modules[module_name])
    found = set()
    for name in QUERY_PARAMETERS:
        quoted = rf"[\"']{re.escape(name)}[\"']"
        pattern = rf"(GET|query_params)[^\n]*{quoted}|{quoted}[^\n]*(GET|query_params)"
        if re.search(pattern, source):
            found.add(name)
    return found


def _with_value(name: str, kwargs: dict[str, Any], parameter: str, value: str) -> str:
    """Return the route's URL with `value` in place of the path parameter `parameter`."""
    first = reverse(name, kwargs={**kwargs, parameter: PROBES[0]})
    second = reverse(name, kwargs={**kwargs, parameter: PROBES[1]})
    start = 0
    while first[start] == second[start]:
        start += 1
    end = 0
    while first[-1 - end] == second[-1 - end]:
        end += 1
    return first[:start] + value + first[len(first) - end :]


class Walk:
    """Requests made and answers that broke the rule, collected over the whole walk."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.client.raise_request_exception = False
        self.checked = 0
        self.failures: list[str] = []

    def get(self, url: str, query: dict[str, str] | None = None) -> int:
        cache.clear()  # throttle counters: every request must reach its view
        status = self.client.get(url, query or {}).status_code
        self.checked += 1
        if status >= 500:
            self.failures.append(f"GET {url} {query or ''}: {status}")
        return status

    def route(self, name: str, kwargs: dict[str, Any], view_module: str) -> None:
        for parameter in PERIOD_PATH_PARAMETERS & set(kwargs):
            sane = _with_value(name, kwargs, parameter, str(FIRST_YEAR + 25))
            if parameter == "year":
                assert self.get(sane) < 400, f"{sane} should answer with a sane year"
            for value in BAD_VALUES:
                status = self.get(_with_value(name, kwargs, parameter, value))
                if status < 400:
                    self.failures.append(f"{name} accepted {parameter}={value}: {status}")
        names = _reads(view_module)
        if not names:
            return
        url = reverse(
            name,
            kwargs={k: PROBES[0] if k in PERIOD_PATH_PARAMETERS else v for k, v in kwargs.items()},
        )
        if PERIOD_PATH_PARAMETERS & set(kwargs):
            url = _with_value(
                name, kwargs, sorted(PERIOD_PATH_PARAMETERS & set(kwargs))[0], str(FIRST_YEAR + 25)
            )
        for parameter in sorted(names):
            for value in BAD_QUERY_VALUES:
                self.get(url, {parameter: value})


@pytest.fixture
def manager(community):
    from tests import factories

    return factories.make_user_with_role(community, role="REFERENTE", username="walker")


def _web_kwargs(route: Any, community: Any) -> dict[str, Any]:
    rule = route.view.access_rule
    kwargs = {name: WEB_ARGUMENTS.get(name) for name in route.arguments}
    if rule.kind == "object":
        target = sample_object(rule.model, community)
        kwargs[rule.url_kwarg] = getattr(target, rule.lookup)
    return kwargs


def test_every_web_page_answers_out_of_range_periods_without_a_server_error(
    client, community, manager
):
    client.force_login(manager)
    walk = Walk(client)
    with_period = 0

    for route in project_routes():
        kwargs = _web_kwargs(route, community)
        module = inspect.unwrap(route.view).__module__
        with_period += bool(PERIOD_PATH_PARAMETERS & set(kwargs) or _reads(module))
        walk.route(route.name, kwargs, module)

    assert with_period >= 8, "the walk found too few pages that read a period"
    assert walk.checked > 100
    assert walk.failures == []


def test_every_api_route_answers_out_of_range_periods_without_a_server_error(community, manager):
    world = build_world(community, "walk")
    walk = Walk(client_for(manager))
    with_period = 0

    for route in api_routes():
        if "get" not in route.methods or route.name == "api:schema":
            continue
        kwargs = {name: API_ARGUMENTS.get(name) for name in route.arguments}
        rule = route.rule
        if rule is not None and rule.kind == "object":
            kwargs["pk"] = world.objects[WORLD_KEYS[rule.model]].pk
        if "plant_id" in kwargs:
            kwargs["plant_id"] = world.objects["plant"].pk
        if "pod" in kwargs:
            kwargs["pod"] = world.objects["connection_point"].pod
        module = route.handler.__module__
        with_period += bool(_reads(module))
        walk.route(route.name, kwargs, module)

    assert with_period >= 5, "the walk found too few API routes that read a period"
    assert walk.failures == []


def test_admin_changelists_answer_out_of_range_dates_without_a_server_error(client):
    root = User.objects.create_superuser("walk-root", "root@example.org", "x")
    client.force_login(root)
    walk = Walk(client)
    hierarchies = 0

    for model, model_admin in admin.site._registry.items():
        field = model_admin.date_hierarchy
        if not field:
            continue
        hierarchies += 1
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for part in ("year", "month", "day"):
            for value in BAD_VALUES:
                walk.get(url, {f"{field}__{part}": value})
        walk.get(url, {f"{field}__year": str(LAST_YEAR), f"{field}__month": "12"})

    assert hierarchies >= 3
    assert walk.failures == []
