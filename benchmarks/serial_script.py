"""The baseline: listing an estate the way a user would write it with azure-ai-ml — one MLClient per
workspace, one call after another. Run as a script; prints a count so its work can be checked.

    python benchmarks/serial_script.py ENDPOINT CA_FILE TENANT SUB [SUB ...]
"""

import sys
import time

T0 = time.monotonic()

from azure.ai.ml import MLClient  # noqa: E402  (the import is part of what a user pays for)


class LocalToken:
    """Stands in for the user's az login: the emulator accepts any token of its tenant."""

    def __init__(self, tenant):
        from emulator.credential import EmulatorCredential

        self._inner = EmulatorCredential(tenant)

    def get_token(self, *scopes, **kwargs):
        return self._inner.get_token(*scopes, **kwargs)


def main(argv):
    endpoint, ca_file, tenant, *subs = argv
    cloud = {
        "cloud": "bench-" + endpoint.rsplit(":", 1)[-1],
        "cloud_metadata": {
            "azure_portal": endpoint + "/",
            "resource_manager": endpoint + "/",
            "active_directory": endpoint + "/",
            "aml_resource_id": endpoint + "/",
            "storage_endpoint": "core.windows.net",
            "registry_discovery_endpoint": endpoint + "/",
        },
    }
    credential = LocalToken(tenant)
    rows = 0
    for sub in subs:
        ml = MLClient(credential, sub, connection_verify=ca_file, enable_telemetry=False, **cloud)
        for ws in ml.workspaces.list(scope="subscription"):
            rg = ws.resource_group
            wml = MLClient(credential, sub, rg, ws.name, connection_verify=ca_file, enable_telemetry=False, **cloud)
            rows += 1
            rows += len(list(wml.compute.list()))
            rows += len(list(wml.datastores.list()))
            for endpoint_obj in wml.online_endpoints.list():
                rows += 1
                rows += len(list(wml.online_deployments.list(endpoint_obj.name)))
            for endpoint_obj in wml.batch_endpoints.list():
                rows += 1
                rows += len(list(wml.batch_deployments.list(endpoint_obj.name)))
            jobs = 0
            for _job in wml.jobs.list():
                jobs += 1
                if jobs >= 100:
                    break
            rows += jobs
    print(rows)
    print(f"{time.monotonic() - T0:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
