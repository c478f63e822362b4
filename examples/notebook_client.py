#!/usr/bin/env python3
"""Ask a running `metallmix serve` for a recommendation, from a notebook or a training script.

Standard library only (urllib). In a notebook:

    from notebook_client import recommend
    rec = recommend(profile, objective="balanced", budget_minutes=30)
    rec["pick"]["model"], rec["pick"]["config"]

From a shell:

    python3 examples/notebook_client.py examples/chest-xray-small.json --objective balanced --budget-minutes 3
    python3 examples/notebook_client.py p.json --url http://gpu-box:8080 --token "$METALLMIX_SERVE_TOKEN" --json

The answer is the Recommendation of `metallmix recommend --json`; `metallmix schema Recommendation`
describes its fields. A 400 says which field of the request is wrong and why.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = os.environ.get("METALLMIX_URL", "http://127.0.0.1:8080")


class MetallmixError(Exception):
    """The server refused the request: `status`, and the `field` it names when it names one."""

    def __init__(self, status, message, field=None):
        super().__init__(message)
        self.status = status
        self.field = field


def recommend(profile, url=DEFAULT_URL, token=None, timeout=300, **options):
    """POST /v1/recommend with a profile (a dict) and options in snake_case or camelCase
    (objective, budget_minutes, metric, top_k, strategy, seed, models); returns the Recommendation."""
    body = {"profile": profile}
    for key, value in options.items():
        if value is not None:
            head, *rest = key.split("_")
            body[head + "".join(w.capitalize() for w in rest)] = value
    request = urllib.request.Request(
        url.rstrip("/") + "/v1/recommend",
        data=json.dumps(body).encode("utf-8"),
        headers={"content-type": "application/json", "accept": "application/json"},
        method="POST",
    )
    if token:
        request.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        try:
            error = json.load(err).get("error", {})
        except ValueError:
            error = {}
        raise MetallmixError(err.code, error.get("message", str(err)), error.get("field")) from None


def describe(rec):
    """The pick in two lines, as a person reads it."""
    pick = rec["pick"]
    metric = rec["metric"]
    interval = pick["predictedMetric"]
    config = ", ".join(f"{k}={v}" for k, v in pick["config"].items()) or "(defaults)"
    lines = [
        f"pick: {pick['model']} ({config})",
        f"predicted {metric}: {interval['mean']:.4f} (80%: {interval['low']:.4f} to {interval['high']:.4f})",
    ]
    time = pick.get("predictedTrainingTimeSec")
    if time:
        lines.append(f"predicted training time: {time['mean'] / 60:.1f} min")
    if rec.get("budgetMinutes") is not None:
        under = rec.get("budgetPick")
        lines.append(
            f"best under {rec['budgetMinutes']} min: {under['model']}" if under else "no candidate fits the budget"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Ask a metallmix server for a recommendation.")
    parser.add_argument("profile", help="dataset profile JSON (metallmix profile --output FILE)")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"server (default {DEFAULT_URL}, or $METALLMIX_URL)")
    parser.add_argument("--token", default=os.environ.get("METALLMIX_SERVE_TOKEN"), help="bearer token")
    parser.add_argument("--objective", choices=["best", "balanced", "fastest"])
    parser.add_argument("--budget-minutes", type=float)
    parser.add_argument("--metric")
    parser.add_argument("--top-k", type=int)
    parser.add_argument("--strategy")
    parser.add_argument("--json", action="store_true", help="print the whole Recommendation")
    args = parser.parse_args(argv)
    with open(args.profile, encoding="utf-8") as f:
        profile = json.load(f)
    try:
        rec = recommend(
            profile,
            url=args.url,
            token=args.token,
            objective=args.objective,
            budget_minutes=args.budget_minutes,
            metric=args.metric,
            top_k=args.top_k,
            strategy=args.strategy,
        )
    except MetallmixError as err:
        print(f"metallmix server: {err} (HTTP {err.status})", file=sys.stderr)
        return 2
    except urllib.error.URLError as err:
        print(f"cannot reach {args.url}: {err.reason}", file=sys.stderr)
        return 4
    print(json.dumps(rec, indent=2) if args.json else describe(rec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
