"""A Dagster webserver on an ephemeral port over a test instance's DAGSTER_HOME (a subprocess, so
the UI is exactly what the data team runs: `dagster-webserver -m xero_sync.definitions`)."""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
READY_MARKER = "Serving dagster-webserver on"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _drain(stream, log_path: Path | None) -> None:
    """Keep reading the webserver's output (its code server and the runs it launches write there
    too: an unread pipe would block them once full), into `log_path` when given."""
    with open(log_path, "a") if log_path else open(os.devnull, "w") as log:
        for line in stream:
            log.write(line)
            log.flush()


@contextmanager
def dagster_webserver(dagster_home: str, timeout: float = 60.0, log_path: Path | None = None) -> Iterator[str]:
    """Start the webserver; yield its base URL once it says it is serving; stop it after. Its
    output (and its runs') goes on to `log_path` if given."""
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": dagster_home,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    cmd = [str(Path(sys.executable).with_name("dagster-webserver")), "-h", "127.0.0.1", "-p", str(port),
           "-m", "xero_sync.definitions", "-d", str(REPO)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    try:
        # Read its log until it says it serves (event-driven, bounded by `timeout`).
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while not any(READY_MARKER in line for line in output):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or proc.poll() is not None:
                raise RuntimeError("dagster-webserver did not start:\n" + "".join(output[-40:]))
            if selector.select(timeout=remaining):
                line = proc.stdout.readline()
                if line:
                    output.append(line)
        selector.close()
        if log_path:
            Path(log_path).write_text("".join(output))
        threading.Thread(target=_drain, args=(proc.stdout, log_path), daemon=True).start()
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# The UI launches runs through the instance's run coordinator: Dagster's default queues them for
# the daemon to start. Without a daemon in the test, the webserver starts them itself (Dagster's
# DefaultRunCoordinator): the same launcher, one run worker subprocess per run, no queue.
LAUNCH_AT_ONCE = ("run_coordinator:\n  module: dagster._core.run_coordinator\n"
                  "  class: DefaultRunCoordinator\ntelemetry:\n  enabled: false\n")
_REPOSITORIES = "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"


def launch_runs_at_once(dagster_home: str) -> None:
    """Let a webserver over `dagster_home` start the runs it launches (call before starting it)."""
    Path(dagster_home, "dagster.yaml").write_text(LAUNCH_AT_ONCE)


def graphql(base: str, query: str, variables: dict | None = None) -> dict:
    """One GraphQL request to the webserver, as the UI makes them; its `data` (errors fail)."""
    request = urllib.request.Request(f"{base}/graphql", method="POST",
                                     data=json.dumps({"query": query, "variables": variables or {}}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            body = json.load(answer)
    except urllib.error.HTTPError as refused:  # GraphQL errors come as a 500 with their body
        body = {"errors": refused.read().decode(errors="replace")[:3000]}
    assert not body.get("errors"), body["errors"]
    return body["data"]


_PARTITION_TAGS = """query($repositoryName: String!, $repositoryLocationName: String!, $jobName: String!,
    $partitionName: String!, $assetKeys: [AssetKeyInput!]!) {
  pipelineOrError(params: {pipelineName: $jobName, repositoryName: $repositoryName,
                           repositoryLocationName: $repositoryLocationName}) {
    ... on Pipeline { partition(partitionName: $partitionName, selectedAssetKeys: $assetKeys) {
      tagsOrError { ... on PartitionTags { results { key value } } } } } } }"""
_CHECKS = """query($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) {
  assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name jobNames } } } } }"""
_LAUNCH = """mutation($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
    ... on InvalidSubsetError { message } ... on RunConfigValidationInvalid { errors { message } } } }"""
ASSET_JOB = "__ASSET_JOB"


def location(base: str) -> dict[str, str]:
    """The code location's selector (`-m xero_sync.definitions` names it after the module)."""
    (repository,) = graphql(base, _REPOSITORIES)["repositoriesOrError"]["nodes"]
    return {"repositoryLocationName": repository["location"]["name"], "repositoryName": repository["name"]}


def launch_asset_run(base: str, asset_paths: list[list[str]], first: str, last: str | None = None) -> str:
    """Launch one `__ASSET_JOB` run of the assets as the UI's Materialize dialog does
    (LaunchAssetChoosePartitionsDialog.onLaunchAsSingleRun): the partition's tags from the
    webserver, or for a range ("Launch as single run") the range tags in their place; the assets'
    checks; `dagster/from_ui`. Returns the run id."""
    keys = [{"path": p} for p in asset_paths]
    where = location(base)
    tags = graphql(base, _PARTITION_TAGS, {**where, "jobName": ASSET_JOB, "partitionName": first,
                                           "assetKeys": keys})["pipelineOrError"]["partition"]["tagsOrError"]["results"]
    if last is not None:
        tags = [t for t in tags if not t["key"].startswith("dagster/partition")]
        tags += [{"key": "dagster/asset_partition_range_start", "value": first},
                 {"key": "dagster/asset_partition_range_end", "value": last}]
    checks = [{"name": c["name"], "assetKey": {"path": node["assetKey"]["path"]}}
              for node in graphql(base, _CHECKS, {"keys": keys})["assetNodes"]
              for c in node["assetChecksOrError"]["checks"] if not c["jobNames"] or ASSET_JOB in c["jobNames"]]
    params = {"mode": "default", "runConfigData": "{}",
              "executionMetadata": {"tags": [*tags, {"key": "dagster/from_ui", "value": "true"}]},
              "selector": {**where, "pipelineName": ASSET_JOB, "assetSelection": keys,
                           "assetCheckSelection": checks}}
    launched = graphql(base, _LAUNCH, {"executionParams": params})["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


_DRY_RUN = """mutation($selectorData: SensorSelector!, $cursor: String) {
  sensorDryRun(selectorData: $selectorData, cursor: $cursor) {
    __typename ... on DryRunInstigationTick { evaluationResult { cursor skipReason error { message } } }
    ... on PythonError { message } } }"""


def sensor_tick(base: str, sensor_name: str, cursor: str | None) -> str | None:
    """One evaluation of a sensor by its code location, as the daemon's tick makes it (the same
    call behind the UI's "Test sensor"): run-status sensors see the runs the UI launched, since
    they come from the same code location. Returns the new cursor, which the caller keeps as the
    daemon would."""
    tick = graphql(base, _DRY_RUN, {"selectorData": {**location(base), "sensorName": sensor_name},
                                    "cursor": cursor})["sensorDryRun"]
    assert tick["__typename"] == "DryRunInstigationTick", tick
    assert tick["evaluationResult"]["error"] is None, tick["evaluationResult"]["error"]
    return tick["evaluationResult"]["cursor"]


_DONE = ("SUCCESS", "FAILURE", "CANCELED")


def wait_for_run(page, run_id: str, timeout_ms: float = 90_000) -> str:
    """Wait (in the browser, on the webserver's answer) until the run has ended; its status."""
    # Each poll reads the status the previous poll's request brought back and asks again (a
    # predicate must answer synchronously: a Promise would count as a truthy answer).
    handle = page.wait_for_function(
        """([runId, done]) => {
             const seen = window.__runStatus = window.__runStatus || {};
             if (!seen.asking) {
               seen.asking = true;
               fetch('/graphql', {method: 'POST', headers: {'Content-Type': 'application/json'},
                 body: JSON.stringify({query: 'query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }',
                                       variables: {id: runId}})})
                 .then((answer) => answer.json())
                 .then((body) => { seen[runId] = body.data.runOrError.status; })
                 .finally(() => { seen.asking = false; });
             }
             return done.includes(seen[runId]) ? seen[runId] : false;
           }""", arg=[run_id, list(_DONE)], polling=300, timeout=timeout_ms)
    return handle.json_value()
