#!/usr/bin/env python3
"""Optuna's TPESampler on metallmix lookup problems, the reference for src/hpo/.

Usage: /usr/bin/python3 scripts/optuna_lookup.py PROBLEMS.json > traces.json

PROBLEMS.json: {"problems": [LookupProblem...], "nTrials": 20, "seeds": [0, 1, ...],
                "history": "evaluated" | "proposed"}
A LookupProblem is the JSON of src/hpo/lookup.ts: {name, space: {parameters: [...]},
direction?, candidates: [{config, value}, ...]}.

Each trial suggests parameters with trial.suggest_* (conditional parameters only when their
parent allows them), snaps the proposal to the nearest candidate not evaluated yet with the
same normalized distance as src/hpo/lookup.ts (numeric position in [0, 1], log scale for log
parameters; categorical mismatch 1; active-vs-inactive 1; first candidate on ties), and
reports that candidate's value. With history "evaluated" (the default, as metallmix does) the
study records the evaluated candidate's parameters (the asked trial is marked failed and a
completed trial with the candidate's parameters is added); with "proposed" it records the
suggested parameters, by study.tell.

Prints {"optunaVersion": ..., "traces": [{"problem", "seed", "evaluations": [index...],
"regrets": [regret after trial 1..nTrials], "suggestSec": [seconds of trial k's study.ask() and
suggest_* calls, the sampler's work, k = 1..], "trialSec": [seconds of trial k in all: suggest,
snap, tell]}]}.
"""
import json
import math
import sys
import time

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def same(a, b):
    # JSON true must not equal 1: compare booleans only with booleans.
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def ordered_parameters(space):
    by_name = {p["name"]: p for p in space["parameters"]}
    done, out = set(), []

    def visit(p):
        if p["name"] in done:
            return
        cond = p.get("condition")
        if cond:
            visit(by_name[cond["parent"]])
        done.add(p["name"])
        out.append(p)

    for p in space["parameters"]:
        visit(p)
    return out


def is_active(p, config):
    cond = p.get("condition")
    if not cond:
        return True
    parent = config.get(cond["parent"])
    return parent is not None and any(same(parent, v) for v in cond["values"])


def choices_of(p):
    return [False, True] if p["type"] == "bool" else p["choices"]


def internal(p, v):
    return math.log(v) if p.get("log") else v


def encode(params, config):
    out = []
    for p in params:
        v = config.get(p["name"])
        if v is None:
            out.append(math.nan)
        elif p["type"] in ("float", "int"):
            lo, hi = internal(p, p["low"]), internal(p, p["high"])
            out.append((internal(p, v) - lo) / (hi - lo) if hi > lo else 0.0)
        else:
            out.append(next(i for i, c in enumerate(choices_of(p)) if same(c, v)))
    return out


def distances(params, target, encoded):
    numeric = np.array([p["type"] in ("float", "int") for p in params])
    t = np.asarray(target, dtype=float)[None, :]
    inactive_t, inactive_c = np.isnan(t), np.isnan(encoded)
    both = ~inactive_t & ~inactive_c
    diff = np.where(numeric[None, :], (np.nan_to_num(encoded) - np.nan_to_num(t)) ** 2,
                    (np.nan_to_num(encoded) != np.nan_to_num(t)).astype(float))
    d = np.where(both, diff, (inactive_t != inactive_c).astype(float))
    return np.sqrt(d.sum(axis=1))


def distribution(p):
    if p["type"] == "float":
        return optuna.distributions.FloatDistribution(p["low"], p["high"], log=bool(p.get("log")))
    if p["type"] == "int":
        return optuna.distributions.IntDistribution(p["low"], p["high"], log=bool(p.get("log")))
    return optuna.distributions.CategoricalDistribution(choices_of(p))


def suggest(trial, params):
    config = {}
    for p in params:
        if not is_active(p, config):
            continue
        name = p["name"]
        if p["type"] == "float":
            config[name] = trial.suggest_float(name, p["low"], p["high"], log=bool(p.get("log")))
        elif p["type"] == "int":
            config[name] = trial.suggest_int(name, p["low"], p["high"], log=bool(p.get("log")))
        else:
            config[name] = trial.suggest_categorical(name, choices_of(p))
    return config


def run(problem, n_trials, seed, history):
    params = ordered_parameters(problem["space"])
    candidates = problem["candidates"]
    maximize = problem.get("direction", "maximize") == "maximize"
    values = np.array([c["value"] for c in candidates], dtype=float)
    best_value = values.max() if maximize else values.min()
    encoded = np.array([encode(params, c["config"]) for c in candidates], dtype=float)
    used = np.zeros(len(candidates), dtype=bool)
    study = optuna.create_study(
        direction="maximize" if maximize else "minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
    )
    evaluations, regrets, suggest_sec, trial_sec, incumbent = [], [], [], [], None
    for _ in range(min(n_trials, len(candidates))):
        t0 = time.perf_counter()
        trial = study.ask()
        proposal = suggest(trial, params)
        suggest_sec.append(time.perf_counter() - t0)
        d = distances(params, encode(params, proposal), encoded)
        d[used] = np.inf
        i = int(np.argmin(d))
        used[i] = True
        value = float(values[i])
        if history == "proposed":
            study.tell(trial, value)
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            config = candidates[i]["config"]
            active = [p for p in params if p["name"] in config]
            study.add_trial(
                optuna.trial.create_trial(
                    params={p["name"]: config[p["name"]] for p in active},
                    distributions={p["name"]: distribution(p) for p in active},
                    value=value,
                )
            )
        trial_sec.append(time.perf_counter() - t0)
        evaluations.append(i)
        if incumbent is None or (value > incumbent if maximize else value < incumbent):
            incumbent = value
        regrets.append(abs(best_value - incumbent))
    while len(regrets) < n_trials:
        regrets.append(regrets[-1])
    return {
        "problem": problem["name"],
        "seed": seed,
        "evaluations": evaluations,
        "regrets": regrets,
        "suggestSec": suggest_sec,
        "trialSec": trial_sec,
    }


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: optuna_lookup.py PROBLEMS.json")
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    history = spec.get("history", "evaluated")
    if history not in ("evaluated", "proposed"):
        sys.exit(f"{sys.argv[1]}: field history: expected evaluated or proposed, got {history!r}")
    traces = [
        run(problem, int(spec["nTrials"]), int(seed), history)
        for problem in spec["problems"]
        for seed in spec["seeds"]
    ]
    json.dump({"optunaVersion": optuna.__version__, "traces": traces}, sys.stdout)


if __name__ == "__main__":
    main()
