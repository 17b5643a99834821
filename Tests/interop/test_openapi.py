"""schemathesis (the real one, from PyPI) against a live `clipwb serve`, driven by docs/openapi.yaml:
no 5xx, every status, content type, header and body as the schema says. Bounded by --max-time."""
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from conftest import ROOT, SAMPLES, TINY, clipwb_path, served

ST = os.path.join(os.path.dirname(sys.executable), "st")
SECONDS = int(os.environ.get("SCHEMATHESIS_SECONDS", "45"))
TOKEN = "schemathesis-token-0"


@pytest.fixture
def server(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for f in sorted(SAMPLES.glob("*.jpg"))[:24]:
        shutil.copy(f, images / f.name)
    subprocess.run([clipwb_path(), "ingest", str(images), "--weights", str(TINY), "--catalog", str(tmp_path / "cat")],
                   check=True, capture_output=True, timeout=300)
    with served(tmp_path / "cat", "--token", TOKEN) as (url, p):
        yield url.rstrip("/"), p


def run_schemathesis(url, *extra):
    return subprocess.run([ST, "run", str(ROOT / "docs" / "openapi.yaml"), "--url", url, "--workers", "1",
                           "--max-time", str(SECONDS), "--seed", "1", "--request-timeout", "30",
                           "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                                       "response_headers_conformance,response_schema_conformance",
                           "--suppress-health-check", "all", *extra],
                          capture_output=True, text=True, timeout=SECONDS + 240)


def test_live_server_conforms_to_openapi(server):
    url, proc = server
    r = run_schemathesis(url, "-H", f"Authorization: Bearer {TOKEN}")
    report = r.stdout[-6000:] + r.stderr[-2000:]
    assert r.returncode == 0, report
    assert proc.poll() is None, "the server died under schemathesis"
    assert re.search(r"\d+ passed", r.stdout), report


def test_schemathesis_catches_a_schema_mismatch(server, tmp_path):
    """Negative control: the same run against a schema that misstates /healthz must fail."""
    url, _ = server
    spec = (ROOT / "docs" / "openapi.yaml").read_text()
    broken = spec.replace("properties: {status: {type: string, enum: [ok]}", "properties: {status: {type: integer}")
    assert broken != spec
    path = tmp_path / "broken.yaml"
    path.write_text(broken)
    r = subprocess.run([ST, "run", str(path), "--url", url, "--workers", "1", "--max-examples", "5",
                        "--include-path", "/healthz", "--checks", "response_schema_conformance"],
                       capture_output=True, text=True, timeout=240)
    assert r.returncode != 0, r.stdout[-3000:]
