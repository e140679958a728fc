#!/usr/bin/env python3
"""The verdict of tests/schemathesis/run: reads the NDJSON event stream of each
schemathesis pass, gathers every failed check and every run error, holds them to
allow-list.toml and prints the operations tested, the failures (total, allowed, new) and
each new one with a request that shows it. Exit 0 when every failure is allowed.

    verdict.py --allow-list tests/schemathesis/allow-list.toml --seconds N \
        PASS_NAME=path/to/events.ndjson ...
"""

import argparse
import base64
import json
import re
import sys
import tomllib

OPERATION = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|TRACE) /")


def load_allow_list(path):
    with open(path, "rb") as f:
        data = tomllib.load(f)
    entries = data.get("allow", [])
    for i, e in enumerate(entries):
        for key in ("operation", "check", "reason"):
            if not str(e.get(key, "")).strip():
                sys.exit(f"{path}: allow[{i}] needs a non-empty `{key}`")
    return entries


def allowed_by(entries, operation, check):
    for e in entries:
        if e["check"] == check and e["operation"] in (operation, "*"):
            return e
    return None


def body_text(response):
    content = (response or {}).get("content") or {}
    if "$base64" in content:
        raw = base64.b64decode(content["$base64"])
    else:
        raw = (content.get("string") or "").encode()
    return raw.decode("utf-8", "replace")[:300]


def read_pass(name, path):
    """The operations a pass tested, its failures {(operation, check): [example]} and its
    errors, and whether it finished."""
    tested = set()
    failures = {}
    errors = []
    finished = False
    interrupted = False
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        return tested, failures, [(name, "error", f"no event stream: {e}")], False
    with f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            kind, payload = next(iter(event.items()))
            if kind == "ScenarioFinished":
                rec = payload.get("recorder") or {}
                label = rec.get("label")
                # Operations are "METHOD /path"; the stateful phase's scenarios are
                # sequences of them ("Stateful tests"), their failures named by operation.
                if label and payload.get("status") != "skip" and OPERATION.match(label):
                    tested.add(label)
                for case_id, checks in (rec.get("checks") or {}).items():
                    for c in checks:
                        if c.get("status") != "failure":
                            continue
                        info = (c.get("failure_info") or {}).get("failure") or {}
                        op = info.get("operation") or label
                        key = (op, c.get("name"))
                        inter = (rec.get("interactions") or {}).get(case_id) or {}
                        req = inter.get("request") or {}
                        resp = inter.get("response") or {}
                        failures.setdefault(key, []).append({
                            "pass": name,
                            "title": info.get("title", ""),
                            "message": info.get("message", ""),
                            "request": f"{req.get('method', '?')} {req.get('uri', '?')}",
                            "status": resp.get("status_code"),
                            "body": body_text(resp),
                        })
            elif kind == "NonFatalError":
                value = payload.get("value") or {}
                label = payload.get("label") or "run"
                errors.append((name, label, f"{value.get('type', '')}: {value.get('message', '')}"))
            elif kind == "FatalError":
                value = payload.get("exception") or {}
                errors.append((name, "run", f"{value.get('type', '')}: {value.get('message', '')}"))
            elif kind == "Interrupted":
                interrupted = True
            elif kind == "EngineFinished":
                finished = True
    return tested, failures, errors, finished and not interrupted


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--allow-list", required=True)
    p.add_argument("--seconds", type=int, required=True)
    p.add_argument("passes", nargs="+", help="NAME=events.ndjson")
    args = p.parse_args()
    entries = load_allow_list(args.allow_list)

    tested_by_pass = {}
    failures = {}
    errors = []
    unfinished = []
    for spec in args.passes:
        name, _, path = spec.partition("=")
        tested, f, e, finished = read_pass(name, path)
        tested_by_pass[name] = tested
        for key, examples in f.items():
            failures.setdefault(key, []).extend(examples)
        errors.extend(e)
        if not finished:
            unfinished.append(name)
    for name, label, message in errors:
        failures.setdefault((label, "error"), []).append({
            "pass": name, "title": "run error", "message": message,
            "request": "", "status": None, "body": "",
        })

    tested = sorted(set().union(*tested_by_pass.values()))
    print(f"== schemathesis: {len(tested)} operations tested")
    for name, ops in tested_by_pass.items():
        print(f"   {name} pass: {len(ops)}")
    for op in tested:
        passes = ", ".join(n for n, ops in tested_by_pass.items() if op in ops)
        print(f"   {op}  ({passes})")

    allowed, new = [], []
    for key in sorted(failures, key=lambda k: (str(k[0]), str(k[1]))):
        entry = allowed_by(entries, *key)
        (allowed if entry else new).append((key, entry))
    used = {id(e) for _, e in allowed}
    for key, entry in allowed:
        op, check = key
        print(f"allowed: {op} {check} ({len(failures[key])} cases): {entry['reason']}")
    for e in entries:
        if id(e) not in used:
            print(f"allow-list entry not met this run: {e['operation']} {e['check']}")
    for key, _ in new:
        op, check = key
        examples = failures[key]
        first = examples[0]
        print(f"NEW FAILURE: {op} {check} ({len(examples)} cases, {first['pass']} pass)")
        message = first["message"]
        if len(message) > 1200:
            message = message[:1200] + " …"
        print(f"    {first['title']}: {message}".replace("\n", "\n    "))
        if first["request"]:
            print(f"    request: {first['request']}")
            print(f"    answer: {first['status']} {first['body']}")
    for name in unfinished:
        print(f"the {name} pass did not finish (see its output above)")
    print(
        f"schemathesis: {len(tested)} operations tested in {args.seconds} s; "
        f"failures: {len(failures)} total, {len(allowed)} allowed, {len(new)} new"
    )
    if new or unfinished or not tested:
        if not tested:
            print("no operation was tested")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
