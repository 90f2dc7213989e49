#!/usr/bin/env python3
"""Validates the state machine in templates/org-sweep.yaml with the asl-validator npm package.

  validate_state_machine.py TEMPLATE WORK_DIR

Extracts SweepStateMachine's Definition, applies its DefinitionSubstitutions with example values (as
CloudFormation would at deploy time), writes WORK_DIR/org-sweep.asl.json, installs asl-validator into
WORK_DIR/node if it is not there yet (npm install), and runs it. A missing npm or a failed install is a failure
with a message, never a skip. Also checks what the issue requires of the definition's shape.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ASL_VALIDATOR = "asl-validator@4.0.0"

# Example values for DefinitionSubstitutions whose CloudFormation values are only known at deploy time.
EXAMPLES = {
    "SweeperFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:ecr-sweeper",
    "ResultsBucket": "org-sweep-results-example",
    "MemberRoleName": "ecr-sweeper-member",
    "Partition": "aws",
    "MaxConcurrency": "10",
    "ToleratedFailurePercentage": "10",
    "MaxResumes": "5",
    "DryRun": "true",
    "KeepCount": "100",
    "KeepDays": "30",
    "KeepTags": "latest,release-*",
    "Regions": "us-east-1,eu-west-1",
    "AccountIds": "",
}


class CfnLoader(yaml.SafeLoader):
    pass


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}


CfnLoader.add_multi_constructor("!", _any_tag)


def fail(message: str) -> int:
    print(f"FAIL: {message}", file=sys.stderr)
    return 1


def substitute(node, values):
    if isinstance(node, str):
        def one(m):
            if m.group(1) not in values:
                raise KeyError(m.group(1))
            return values[m.group(1)]
        return re.sub(r"\$\{([A-Za-z0-9]+)\}", one, node)
    if isinstance(node, list):
        return [substitute(v, values) for v in node]
    if isinstance(node, dict):
        return {k: substitute(v, values) for k, v in node.items()}
    return node


def states_of(definition):
    for name, state in definition.get("States", {}).items():
        yield name, state
        processor = state.get("ItemProcessor") or {}
        yield from states_of(processor)


def check_shape(definition) -> list[str]:
    problems = []
    states = dict(states_of(definition))
    resources = {s.get("Resource") for s in states.values()}
    for needed in ("arn:aws:states:::aws-sdk:organizations:listAccounts", "arn:aws:states:::lambda:invoke"):
        if needed not in resources:
            problems.append(f"no Task with Resource {needed}")
    maps = [s for s in states.values() if s.get("Type") == "Map"]
    if not any((m.get("ItemProcessor") or {}).get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED" for m in maps):
        problems.append("no Distributed Map")
    for m in maps:
        for field in ("MaxConcurrency", "ToleratedFailurePercentage", "ResultWriter"):
            if field not in m:
                problems.append(f"the Map has no {field}")
    payloads = [s.get("Arguments", {}).get("Payload", {}) for s in states.values()
                if s.get("Resource") == "arn:aws:states:::lambda:invoke"]
    if not any(isinstance(p, dict) and p.get("ecrSweeper", {}).get("task") == "clean" for p in payloads):
        problems.append("the lambda:invoke payload is not a sweep task {\"ecrSweeper\": {\"task\": \"clean\"}}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        return fail(__doc__)
    template, work = Path(argv[1]), Path(argv[2])
    doc = yaml.load(template.read_text(), Loader=CfnLoader)
    machines = {k: r for k, r in doc["Resources"].items() if r["Type"] == "AWS::StepFunctions::StateMachine"}
    if len(machines) != 1:
        return fail(f"{template.name}: expected one state machine, found {len(machines)}")
    props = next(iter(machines.values()))["Properties"]
    subs = props.get("DefinitionSubstitutions", {})
    missing = set(subs) - set(EXAMPLES)
    if missing:
        return fail(f"no example value for DefinitionSubstitutions {sorted(missing)}")
    try:
        definition = substitute(props["Definition"], EXAMPLES)
    except KeyError as e:
        return fail(f"the definition uses ${{{e.args[0]}}}, which DefinitionSubstitutions does not define")
    work.mkdir(parents=True, exist_ok=True)
    asl = work / "org-sweep.asl.json"
    asl.write_text(json.dumps(definition, indent=2))
    problems = check_shape(definition)
    for p in problems:
        print(f"FAIL: {template.name}: {p}", file=sys.stderr)

    validator = work / "node" / "node_modules" / ".bin" / "asl-validator"
    if not validator.exists():
        npm = shutil.which("npm")
        if not npm:
            return fail("npm is not on PATH: it installs asl-validator, which validates the state machine")
        r = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(work / "node"), ASL_VALIDATOR],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0 or not validator.exists():
            return fail(f"npm install {ASL_VALIDATOR} failed:\n{r.stdout}\n{r.stderr}")
    r = subprocess.run([str(validator), "--json-path", str(asl)], capture_output=True, text=True, timeout=120)
    print(r.stdout, end="")
    if r.returncode != 0:
        return fail(f"asl-validator rejects {asl}:\n{r.stderr}")
    if problems:
        return 1
    print(f"OK: {template.name}'s state machine ({len(dict(states_of(definition)))} states) passes asl-validator")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
