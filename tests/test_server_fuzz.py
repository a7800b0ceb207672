"""No request value (path, query, form fields, headers) makes the web app fail with a 500."""
from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from conftest import one_sheet_project
from handouts.server import preview
from handouts.server.app import create_app

ROUTES = ["/", "/thumb/{}/{}.png", "/personalise/{}/{}", "/print/{}/{}", "/send/{}/{}", "/log", "/log.csv",
          "/preview/{}/{}", "/preview/{}/{}/page-1.png", "/preview/{}/{}/events", "/access", "/static/{}"]
NAMES = ["en", "es", "ketamine-aftercare", "standard", "large-print", "a4", "letter", "2026-12-10",
         "2030-12-10T09:30", ""]
text = st.one_of(st.sampled_from(NAMES), st.text(max_size=40))
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40)
FIELDS = ["patient", "treatment_date", "next_visit", "clinician", "note", "edition", "paper", "code",
          "q", "from", "to", "since"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    project = one_sheet_project(tmp_path_factory.mktemp("fuzzed"))
    preview.EVENT_WAIT_SECONDS = 0.1  # a "since" that is the current generation would wait
    with TestClient(create_app(project, watch=False), base_url="http://127.0.0.1:8000",
                    raise_server_exceptions=False) as client:
        yield client


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), parts=st.tuples(text, text), method=st.sampled_from(["GET", "POST"]),
       query=st.dictionaries(st.sampled_from(FIELDS), text, max_size=4),
       form=st.dictionaries(st.sampled_from(FIELDS), text, max_size=5),
       headers=st.dictionaries(st.sampled_from(["Origin", "Sec-Fetch-Site", "Last-Event-ID", "Cookie",
                                                "Content-Type", "Accept-Language"]), header_text, max_size=3))
def test_no_request_makes_a_500(client, route, parts, method, query, form, headers):
    path = route.format(*(urllib.parse.quote(part, safe="") for part in parts)) if "{}" in route else route
    response = client.request(method, path, params=query, data=form if method == "POST" else None,
                              headers={name: value.encode("latin-1") for name, value in headers.items()})
    assert response.status_code < 500, (method, path, response.text[:500])
