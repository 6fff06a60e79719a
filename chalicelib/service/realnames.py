"""The real-name step (实名认证): a signed-in citizen's account gets its identity number, verified
by the register and bound to this account alone. Until then the account may read its (empty)
list of cases and take this step, nothing else (chalicelib/adapters/http.py).

The order keeps the register from being an oracle for strangers: an account bound already is
refused before anything is asked; the register is asked before anything about the number's
binding is told; and only then does a number bound to another account get its refusal, with the
way back into that account."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from ..domain.cases import Caller
from ..domain.errors import ConcurrentChange
from ..domain.identity import (Binding, check_attempts, check_binding, parse_real_name,
                               refuse_mismatch)
from ..domain.masking import mask_id_number
from ..domain.verification import china_day
from ..logs import logger
from .ports import CitizenAccounts, IdentityBindings, RealNameAttempts, RealNameRegister


class RealNames:
    def __init__(self, register: RealNameRegister, bindings: IdentityBindings,
                 accounts: CitizenAccounts, attempts: RealNameAttempts,
                 now: Callable[[], datetime]):
        self.register = register
        self.attempts = attempts
        self.bindings = bindings
        self.accounts = accounts
        self.now = now

    def bind(self, caller: Caller, username: str, body: dict) -> dict:
        """Verifies name and number, binds the number to the caller's account and sets the
        account's verified attributes. Taken again with the same name and number (a retry
        after a failure), it sets the attributes again and answers the same."""
        real_name = parse_real_name(body, self.now().date())
        account = caller.principal
        held = self.bindings.number_of_account(account) or caller.id_number
        check_binding(real_name, account, None, held)      # an account binds one number
        day = china_day(self.now())
        check_attempts(self.attempts.refused(account, day))
        verdict = self.register.verify(real_name.name, real_name.id_number)
        if not verdict.matches:
            self.attempts.count_refusal(account, day)
            logger.info("real name refused", extra={
                "id_number": mask_id_number(real_name.id_number), "reason": verdict.reason})
            raise refuse_mismatch(real_name, verdict)
        binding = Binding(real_name.id_number, account, username, real_name.name,
                          self.now().isoformat())
        for _attempt in range(2):
            bound = self.bindings.of_number(real_name.id_number)
            held = self.bindings.number_of_account(account)
            if not check_binding(real_name, account, bound, held):
                binding = bound                                 # bound before: a retry
                break
            if self.bindings.bind(binding):
                logger.info("real name bound", extra={
                    "id_number": mask_id_number(real_name.id_number), "account": account})
                break
        else:
            raise ConcurrentChange("the binding changed meanwhile; try again", field="id_number")
        self.accounts.set_verified(username, binding.name, binding.id_number)
        return {"name": binding.name, "id_number": binding.id_number,
                "bound_at": binding.bound_at,
                "token": "sign in again or refresh the ID token: the new one carries the "
                         "verified name and custom:id_number"}
