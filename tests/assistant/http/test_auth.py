"""API keys: hashed at rest, 401 without a known key, 403 outside a key's datasets."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import SecretStr
import pytest

from assistant.http.auth import KeyStore, hash_key, load_keys_file, main, new_key
from assistant.http.app import create_app
from retail_insights.errors import ConfigError
from retail_insights.settings import Settings
from tests.assistant.http.conftest import MakeClient
from warehouse.spec import dataset_names

ADMIN, ANALYST = new_key(), new_key()


@pytest.fixture
def keys_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [
        {"name": "admin", "sha256": hash_key(ADMIN)},
        {"name": "analyst", "sha256": hash_key(ANALYST), "datasets": ["superstore"]},
    ]}))
    return path


@pytest.fixture
def secured(make_client: MakeClient, keys_file: Path):
    return make_client(api={"auth_enabled": True, "api_keys_file": keys_file})


def test_auth_is_off_by_default(client) -> None:
    assert client.get("/v1/datasets").status_code == 200


def test_a_request_without_a_key_is_a_401_saying_how_to_send_one(secured) -> None:
    response = secured.post("/v1/ask", json={"question": "total sales in 2016", "dataset": "superstore"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthorized"
    assert "Authorization: Bearer <key>" in response.json()["detail"]


def test_an_unknown_key_is_a_401(secured) -> None:
    response = secured.get("/v1/datasets", headers={"X-API-Key": new_key()})
    assert response.status_code == 401
    assert "unknown API key" in response.json()["detail"]


@pytest.mark.parametrize("header", ["X-API-Key", "Authorization"])
def test_a_known_key_is_accepted_in_either_header(secured, header: str) -> None:
    value = ADMIN if header == "X-API-Key" else f"Bearer {ADMIN}"
    response = secured.post("/v1/ask", json={"question": "total sales in 2016", "dataset": "superstore"},
                            headers={header: value})
    assert response.status_code == 200
    assert response.json()["status"] == "answered"


def test_a_key_outside_its_datasets_is_a_403_naming_what_it_may_read(secured) -> None:
    headers = {"X-API-Key": ANALYST}
    ask = secured.post("/v1/ask", json={"question": "total revenue in 2024", "dataset": "retail_sales"},
                       headers=headers)
    sql = secured.post("/v1/sql", json={"sql": "SELECT COUNT(*) FROM sales", "dataset": "retail_sales"},
                       headers=headers)
    assert ask.status_code == sql.status_code == 403
    assert "may not read dataset 'retail_sales'" in ask.json()["detail"]
    assert "Its datasets: superstore" in ask.json()["detail"]


def test_a_scoped_key_defaults_to_the_default_dataset_and_is_refused_there(secured) -> None:
    # default_dataset is retail_sales: the analyst must name superstore.
    response = secured.post("/v1/ask", json={"question": "total sales"}, headers={"X-API-Key": ANALYST})
    assert response.status_code == 403


def test_the_datasets_listing_shows_only_the_keys_datasets(secured) -> None:
    analyst = secured.get("/v1/datasets", headers={"X-API-Key": ANALYST}).json()
    admin = secured.get("/v1/datasets", headers={"X-API-Key": ADMIN}).json()
    assert [d["name"] for d in analyst["datasets"]] == ["superstore"]
    assert [d["name"] for d in admin["datasets"]] == sorted(dataset_names())


def test_health_and_metrics_need_no_key(secured) -> None:
    assert secured.get("/health").status_code == 200
    assert secured.get("/metrics").status_code == 200


def test_keys_from_the_environment_are_hashed_and_read_every_dataset(make_client: MakeClient) -> None:
    client = make_client(api={"auth_enabled": True, "api_keys": [ADMIN]})
    assert client.get("/v1/datasets", headers={"X-API-Key": ADMIN}).status_code == 200
    store = KeyStore.from_settings(Settings(api={"api_keys": [SecretStr(ADMIN)]}))
    assert ADMIN not in repr(vars(store))


def test_auth_on_without_any_key_fails_at_startup_with_the_fix(warehouse_home: Path) -> None:
    with pytest.raises(ConfigError, match=r"auth_enabled is true but no API key.*RETAIL_API__API_KEYS"):
        create_app(Settings(home=warehouse_home, api={"auth_enabled": True}))


def test_a_keys_file_holding_a_plain_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [{"name": "oops", "sha256": ADMIN}]}))
    with pytest.raises(ConfigError, match=r"entry 0 has no valid 'sha256'.*never the key itself"):
        load_keys_file(path)


def test_a_keys_file_naming_an_unknown_dataset_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [{"sha256": hash_key(ADMIN), "datasets": ["superstor"]}]}))
    with pytest.raises(ConfigError, match=r"unknown dataset 'superstor'.*Did you mean 'superstore'"):
        load_keys_file(path, known_datasets=["retail_sales", "superstore"])


def test_a_missing_keys_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"does not exist.*python -m assistant.http.auth"):
        load_keys_file(tmp_path / "nope.json")


def test_the_key_maker_prints_a_key_and_an_entry_holding_only_its_hash(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--name", "bi", "--datasets", "superstore"]) == 0
    key_line, entry_line = capsys.readouterr().out.splitlines()
    key = key_line.split(": ", 1)[1]
    entry = json.loads(entry_line.split(":", 1)[1])
    assert entry == {"name": "bi", "sha256": hash_key(key), "datasets": ["superstore"]}
    assert key not in entry_line
