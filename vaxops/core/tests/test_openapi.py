"""The API contract is published, and its docs page loads nothing from outside."""

import re


def test_openapi_lists_the_contract_paths(client, db):
    spec = client.get("/api/v1/openapi.json").json()
    for path in ["/api/v1/people", "/api/v1/people/{person_id}/eligibility", "/api/v1/doses",
                 "/api/v1/doses/{dose_id}/void", "/api/v1/sites", "/api/v1/lots", "/api/v1/stats/summary"]:
        assert path in spec["paths"], path


def test_docs_page_uses_only_local_assets(client, db):
    html = client.get("/api/v1/docs").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources
