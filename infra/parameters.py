"""Deploy parameters, checked when the template is built rather than when CloudFormation runs.

Every parameter of a packaged template says what it accepts: a String an AllowedPattern or
AllowedValues (with a ConstraintDescription), a Number its MinValue and MaxValue; and its
Default, where it has one, is acceptable. `make package PARAMS=<file>` (global variant) and
`PARAMS_CN=<file>` (China) take the values of a deployment as a JSON object
{"ParameterName": "value", ...} (or CloudFormation's [{"ParameterKey", "ParameterValue"}] list):
a value that is empty, malformed or out of range, a parameter without default left out, or a
name the template does not declare, fails the build with a message naming the parameter. The
checked values are written next to the template as parameters.json, ready for
`aws cloudformation create-stack --parameters file://...`."""
from __future__ import annotations

import json
import re
from pathlib import Path


class InvalidParameters(SystemExit):
    """Raised with every problem found, one line each, the parameter named first."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("deploy parameters refused:\n  " + "\n  ".join(problems))


def load(path: Path) -> dict[str, str]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidParameters([f"{path}: not a readable JSON file ({error})"]) from None
    if isinstance(data, list):
        try:
            data = {entry["ParameterKey"]: entry["ParameterValue"] for entry in data}
        except (TypeError, KeyError):
            raise InvalidParameters([f"{path}: a list must hold ParameterKey and "
                                     "ParameterValue objects"]) from None
    if not isinstance(data, dict):
        raise InvalidParameters([f"{path}: expected a JSON object of parameter values"])
    return data


def problems_of(name: str, spec: dict, value) -> list[str]:
    """What is wrong with `value` for parameter `name` (nothing: an empty list)."""
    if value is None:
        return [f"{name}: empty ({_accepts(spec)})"]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return [f"{name}: must be a string, not {type(value).__name__}"]
    text = str(value)
    if not text.strip() and not _accepts_empty(spec):
        return [f"{name}: empty ({_accepts(spec)})"]
    if spec.get("Type", "String") == "Number":
        try:
            number = float(text)
        except ValueError:
            return [f"{name}: {text!r} is not a number ({_accepts(spec)})"]
        low, high = spec.get("MinValue"), spec.get("MaxValue")
        if (low is not None and number < float(low)) or (high is not None
                                                          and number > float(high)):
            return [f"{name}: {text} is out of range ({_accepts(spec)})"]
        return []
    if "AllowedValues" in spec and text not in [str(v) for v in spec["AllowedValues"]]:
        return [f"{name}: {text!r} is not one of {', '.join(map(str, spec['AllowedValues']))}"]
    pattern = spec.get("AllowedPattern")
    if pattern and not re.fullmatch(pattern, text):
        return [f"{name}: {text!r} is malformed ({_accepts(spec)})"]
    for bound, fits in (("MinLength", lambda n: len(text) >= n),
                        ("MaxLength", lambda n: len(text) <= n)):
        if bound in spec and not fits(int(spec[bound])):
            return [f"{name}: {len(text)} characters, {bound} is {spec[bound]}"]
    return []


def _accepts_empty(spec: dict) -> bool:
    """Only an optional parameter whose own constraint takes "" may be left empty."""
    if spec.get("Type", "String") != "String":
        return False
    if "AllowedValues" in spec:
        return "" in [str(v) for v in spec["AllowedValues"]]
    pattern = spec.get("AllowedPattern")
    return bool(pattern) and re.fullmatch(pattern, "") is not None


def _accepts(spec: dict) -> str:
    return spec.get("ConstraintDescription") or spec.get("Description") or "see the template"


def unconstrained(template: dict) -> list[str]:
    """Parameters that would accept anything, or whose own default they would refuse. (What
    a parameter accepts is told in its ConstraintDescription, or else its Description.)"""
    found = []
    for name, spec in (template.get("Parameters") or {}).items():
        kind = spec.get("Type", "String")
        if kind == "Number":
            if "MinValue" not in spec or "MaxValue" not in spec:
                found.append(f"{name}: a Number parameter needs MinValue and MaxValue")
        elif kind == "String":
            if not spec.get("AllowedPattern") and not spec.get("AllowedValues"):
                found.append(f"{name}: a String parameter needs AllowedPattern or "
                             "AllowedValues")
        if "Default" in spec:
            found += [f"{problem} (its default)"
                      for problem in problems_of(name, spec, spec["Default"])]
    return found


def check(template: dict, values: dict) -> list[dict]:
    """The values as CloudFormation's parameter list; InvalidParameters naming each problem."""
    declared = template.get("Parameters") or {}
    problems = [f"{name}: not a parameter of this template (it has "
                f"{', '.join(sorted(declared)) or 'none'})"
                for name in sorted(set(values) - set(declared))]
    for name, spec in declared.items():
        if name in values:
            problems += problems_of(name, spec, values[name])
        elif "Default" not in spec:
            problems.append(f"{name}: required, no value given ({_accepts(spec)})")
    if problems:
        raise InvalidParameters(problems)
    return [{"ParameterKey": name, "ParameterValue": str(values[name])}
            for name in declared if name in values]
