"""azure-ai-ml loads in the background once the console has its first rows, so the first action does not
wait seconds for its import; a read-only session never loads it. Each case in a fresh interpreter (this
test process has imported azure-ai-ml long ago)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import sys
from services.cloud import AZURE_PUBLIC
from services.session import Session

session = Session(cloud=AZURE_PUBLIC, credential=None, read_only={read_only})
assert "azure.ai.ml" not in sys.modules
thread = session.preload_actions()
assert session.preload_actions() is thread  # once per session
if thread is not None:
    thread.join(120)
print("loaded" if "azure.ai.ml.entities" in sys.modules else "not loaded")
print(session.preload_error, file=sys.stderr)
"""


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("read_only", "expected"), [(False, "loaded"), (True, "not loaded")])
def test_preload_imports_azure_ai_ml_off_the_calling_thread(read_only: bool, expected: str) -> None:
    # A console starts without azure-ai-ml's process-wide cloud setting. (Any MLClient this test process built
    # for the emulator left AZUREML_CURRENT_CLOUD naming a cloud a child does not know; importing azure-ai-ml
    # there would go looking for it at the public cloud-metadata endpoint.)
    env = {k: v for k, v in os.environ.items() if k not in ("AZUREML_CURRENT_CLOUD", "ARM_CLOUD_METADATA_URL")}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(read_only=read_only)], capture_output=True, text=True, timeout=150, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected, out.stderr
