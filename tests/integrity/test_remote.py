"""citric against a fake LimeSurvey RemoteControl 2 server on 127.0.0.1."""

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from beffroi.cli import main
from beffroi.integrity.errors import InputError
from beffroi.integrity.remote import fetch_responses_csv

CSV = (
    '"id","submitdate","ipaddr","ECOLE","BLOUSE[SQ001]","BLOUSE[SQ002]"\n'
    '"10","2026-03-02 18:00:00","90.1.1.1","A1","Y","N"\n'
    '"11","2026-03-02 18:05:00","90.1.1.2","A2","N","N"\n'
)


class _Handler(BaseHTTPRequestHandler):
    calls: list[tuple[str, list[Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        method, params = body["method"], body["params"]
        self.calls.append((method, params))
        if method == "get_session_key":
            ok = params[:2] == ["scrutateur", "secret"]
            result: Any = "KEY123" if ok else {"status": "Invalid user name or password"}
        elif method == "export_responses":
            assert params[0] == "KEY123"
            if params[1] == 999:
                result = {"status": "No Data, survey table does not exist."}
            else:
                assert params[2] == "csv"
                result = base64.b64encode(CSV.encode()).decode()
        elif method == "release_session_key":
            result = "OK"
        else:
            result = {"status": f"unknown method {method}"}
        data = json.dumps({"id": body["id"], "result": result, "error": None}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.calls = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/index.php/admin/remotecontrol"
    srv.shutdown()
    srv.server_close()


def test_fetch_uses_the_real_rpc_sequence(server: str) -> None:
    text = fetch_responses_csv(server, "scrutateur", "secret", 123)
    assert text == CSV
    assert [m for m, _ in _Handler.calls] == [
        "get_session_key",
        "export_responses",
        "release_session_key",
    ]


def test_bad_password_and_missing_survey(server: str) -> None:
    with pytest.raises(InputError):
        fetch_responses_csv(server, "scrutateur", "wrong", 123)
    with pytest.raises(InputError):
        fetch_responses_csv(server, "scrutateur", "secret", 999)


def test_cli_remote(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BEFFROI_LIMESURVEY_PASSWORD", "secret")
    out = tmp_path / "r.json"
    code = main(
        [
            *("audit", "--limesurvey-url", server, "--user", "scrutateur", "--survey", "123"),
            *("--json", str(out)),
        ]
    )
    assert code == 0
    data = json.loads(out.read_text())
    assert [r["id"] for r in data["responses"]] == ["10", "11"]
    monkeypatch.setenv("BEFFROI_LIMESURVEY_PASSWORD", "wrong")
    out2 = tmp_path / "r2.json"
    code = main(
        [
            *("audit", "--limesurvey-url", server, "--user", "scrutateur", "--survey", "123"),
            *("--json", str(out2)),
        ]
    )
    assert code == 2 and not out2.exists()
    assert "LimeSurvey" in capsys.readouterr().err
