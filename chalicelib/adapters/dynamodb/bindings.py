"""IdentityBindingsTable: which account a resident identity number is bound to, and which
number an account is bound to. Two items per binding, `number#<id number>` and
`account#<sub>`, written together in one transaction, each only if it does not exist yet: two
accounts cannot bind one number, nor one account two numbers, however the requests interleave.
Written once, never updated or deleted (the API's role may only get and put)."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ...domain.identity import Binding
from .table import meta


class BindingModel(Model):
    Meta = meta("identity_bindings_table", "IdentityBindingsTable")
    binding = UnicodeAttribute(hash_key=True)
    data = JSONAttribute()


def number_key(id_number: str) -> str:
    return f"number#{id_number}"


def account_key(account: str) -> str:
    return f"account#{account}"


class DynamoBindings:
    def of_number(self, id_number: str) -> Binding | None:
        try:
            return Binding.from_dict(BindingModel.get(number_key(id_number),
                                                      consistent_read=True).data)
        except BindingModel.DoesNotExist:
            return None

    def number_of_account(self, account: str) -> str | None:
        try:
            return BindingModel.get(account_key(account), consistent_read=True).data[
                "id_number"]
        except BindingModel.DoesNotExist:
            return None

    def bind(self, binding: Binding) -> bool:
        data = binding.to_dict()
        items = (BindingModel(number_key(binding.id_number), data=data),
                 BindingModel(account_key(binding.account), data=data))
        meta_ = BindingModel.Meta
        try:
            with TransactWrite(connection=Connection(region=meta_.region,
                                                     host=meta_.host)) as transaction:
                for item in items:
                    transaction.save(item, condition=BindingModel.binding.does_not_exist())
        except TransactWriteError as error:
            if error.cause_response_code == "TransactionCanceledException":
                return False
            raise
        return True
