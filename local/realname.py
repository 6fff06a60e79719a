"""The local stack's identity register: the real-name step's verification port answered from a
fixture of fictional people (local/people.json), in place of the cloud's HTTPS verification
service (chalicelib/adapters/realname.py). It is installed by the local stack
(bootstrap.use_real_name_register) and is never part of the deployed code.

It answers as the register does: a name and number that belong together match; a number with
a wrong GB 11643 check digit, or a name and number that are not the register's pair, do not."""
from __future__ import annotations

import json
from pathlib import Path

from chalicelib.domain.identity import Verdict, id_number_problem

PEOPLE = Path(__file__).resolve().parent / "people.json"


class DemoRegister:
    def __init__(self, path: Path = PEOPLE):
        people = json.loads(Path(path).read_text(encoding="utf-8"))["people"]
        self.names: dict[str, str] = {}
        for person in people:
            wrong = id_number_problem(person["id_number"])
            if wrong:
                raise ValueError(f"{path}: {person['id_number']} {wrong}")
            self.names.setdefault(person["id_number"], person["name"])
            if self.names[person["id_number"]] != person["name"]:
                raise ValueError(f"{path}: {person['id_number']} is listed under two names")

    def verify(self, name: str, id_number: str) -> Verdict:
        wrong = id_number_problem(id_number)
        if wrong:
            return Verdict(False, f"the number {wrong}")
        if self.names.get(id_number) != name:
            # As a verification service answers: not a pair, without telling whether the
            # number is anyone's.
            return Verdict(False, "name and number are not a pair in the register")
        return Verdict(True)
