"""A stand-in for the Azure Resource Manager operations of Logic Apps runs (REST, the
``Microsoft.Logic`` API version azure-mgmt-logic 10 sends: 2019-05-01; the shapes are the same
in 2016-06-01), which has no emulator. It serves one workflow's:

- ``POST .../workflows/{w}/triggers/{t}/run``: 202 with no body (the management API's answer,
  which names no run); a new run then appears in the run list after ``appear_after`` lists;
- ``GET .../workflows/{w}/runs`` (``$top``): ``{"value": [run, ...]}``, newest first;
- ``GET .../workflows/{w}/runs/{r}``: the run, its ``properties.status`` taken in turn from
  a script (``Running``, then ``Succeeded``/``Failed``/...; the last repeats), with
  ``properties.error`` ``{code, message}`` when it failed;
- ``GET .../workflows/{w}/runs/{r}/actions``: ``{"value": [action, ...]}``, the actions seen
  at that point of the script (``name``, ``properties.status``).

Anything else is answered 404 (and recorded, as everything is, by :class:`RestStandIn`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infra.rest_standin import Answer, Request, RestStandIn

OLD_RUN = "08584000000000000000000000000CU00"
NEW_RUN = "08584999999999999999999999999CU11"


class LogicAppsStandIn(RestStandIn):
    """The runs of the workflow at ``workflow`` (its id)."""

    def __init__(
        self,
        workflow: str,
        statuses: Sequence[str] = ("Running", "Succeeded"),
        actions: Sequence[dict[str, str]] = (),
        error: str = "",
        appear_after: int = 0,
    ) -> None:
        super().__init__()
        self.workflow = workflow
        self.statuses = list(statuses)
        self.actions = [dict(a) for a in actions]  # per poll: action name -> status
        self.error = error
        self.appear_after = appear_after
        self.triggered = False
        self.lists_after_trigger = 0
        self.polls = 0

    def _run(self, name: str, status: str) -> dict[str, Any]:
        properties: dict[str, Any] = {"status": status, "startTime": "2026-12-08T00:00:00Z"}
        if status == "Failed" and self.error:
            properties["error"] = {"code": "TaskFailed", "message": self.error}
        return {
            "id": f"{self.workflow}/runs/{name}",
            "name": name,
            "type": "Microsoft.Logic/workflows/runs",
            "properties": properties,
        }

    def answer(self, request: Request) -> Answer:
        if not request.path.startswith(self.workflow + "/"):
            return Answer(404, {"error": {"code": "NotFound", "message": request.path}})
        rest = request.path.removeprefix(self.workflow + "/")
        if request.method == "POST" and rest.endswith("/run") and rest.startswith("triggers/"):
            self.triggered = True
            return Answer(202)
        if request.method == "GET" and rest == "runs":
            runs = [self._run(OLD_RUN, "Succeeded")]
            if self.triggered:
                if self.lists_after_trigger >= self.appear_after:
                    runs.insert(0, self._run(NEW_RUN, self.statuses[0]))
                self.lists_after_trigger += 1
            return Answer(body={"value": runs})
        if request.method == "GET" and rest == f"runs/{NEW_RUN}":
            self.polls += 1
            status = self.statuses[min(self.polls, len(self.statuses) - 1)]
            return Answer(body=self._run(NEW_RUN, status))
        if request.method == "GET" and rest == f"runs/{NEW_RUN}/actions":
            seen = self.actions[min(self.polls, len(self.actions) - 1)] if self.actions else {}
            value = [
                {
                    "id": f"{self.workflow}/runs/{NEW_RUN}/actions/{action}",
                    "name": action,
                    "type": "Microsoft.Logic/workflows/runs/actions",
                    "properties": {"status": status},
                }
                for action, status in seen.items()
            ]
            return Answer(body={"value": value})
        return Answer(404, {"error": {"code": "NotFound", "message": request.path}})
