"""Azure ML online endpoints/deployments and batch endpoints/deployments, plus the scoring data plane.

Control plane (ARM, under a workspace): onlineEndpoints list/get/PUT/PATCH/DELETE, listKeys,
regenerateKeys, token; deployments list/get/PUT/PATCH/DELETE, getLogs, skus; batchEndpoints and their
deployments list/get/PUT/PATCH/DELETE. Mutations are LROs (201/202 + Azure-AsyncOperation) that settle
to Succeeded. Data plane: POST {scoringUri} (anonymous to ARM auth; checks the endpoint key, AML token
or Entra token itself), routed by traffic or the ``azureml-model-deployment`` header.

The pieces live in endpoints_model (types, rules, rendering), endpoints_populate (the generated estate
and the autoscale ticker), endpoints_online, endpoints_batch and endpoints_scoring.
"""

from __future__ import annotations

from typing import Any

from ..estate import Estate
from ..http import Request, Response
from .endpoints_batch import register_batch
from .endpoints_model import state, subscription_of
from .endpoints_online import register_online
from .endpoints_populate import populate as _populate
from .endpoints_populate import scale_ticker
from .endpoints_scoring import score, swagger


def populate(estate: Estate) -> None:
    _populate(estate)
    estate.tickers.append(scale_ticker)


def register(router: Any, emu: Any) -> None:
    estate: Estate = emu.estate
    register_online(router, emu)
    register_batch(router, emu)

    # Failed deployments point at the failed operation that explains them, as Azure's do.
    st = state(estate)
    for dep_id, op_id in sorted(st.operation_ids.items()):
        dep = estate.get(dep_id)
        if dep is None:
            continue
        emu.ops.start(
            "OnlineDeployment.CreateOrUpdate",
            subscription_of(dep["id"]),
            dep["location"],
            None,
            duration_s=0.0,
            fail_with=st.failures.get(dep_id, {"code": "DeploymentFailed", "message": "The deployment failed."}),
            op_id=op_id,
        )

    def score_route(req: Request, region: str, endpoint: str) -> Response:
        return score(estate, req, region, endpoint)

    def swagger_route(req: Request, region: str, endpoint: str) -> Response:
        return swagger(estate, req, region, endpoint)

    router.add("POST", "/score/{region}/{endpoint}/score", score_route)
    router.add("GET", "/score/{region}/{endpoint}/swagger.json", swagger_route)
