"""The DynamoDB adapters, one module a table (pynamodb models; the scores table alone in raw
boto3, see scores.py), with what they share in table.py. The tables themselves are defined once
in infra/resources.json; tests check MODELS agree with it."""
from .bindings import BindingModel, DynamoBindings
from .branches import BranchModel
from .cases import CaseModel, DynamoCases, china_day
from .counters import CounterModel
from .faqs import DynamoFaqs, FaqModel
from .scores import DynamoCounters
from .staff import DynamoStaffAccounts, StaffAccountModel
from .supervision import DynamoSupervision, SupervisionModel
from .table import bind
from .tasks import DynamoTasks, TaskModel
from .trail import DynamoTrails, TrailModel
from .verifications import DynamoRealNameAttempts, DynamoVerifications, VerificationModel

MODELS = (CaseModel, TrailModel, CounterModel, BranchModel, SupervisionModel, TaskModel,
          FaqModel, VerificationModel, BindingModel, StaffAccountModel)

__all__ = ["MODELS", "BindingModel", "BranchModel", "CaseModel", "CounterModel", "FaqModel",
           "SupervisionModel", "TaskModel", "TrailModel", "VerificationModel", "DynamoBindings",
           "DynamoCases", "DynamoCounters", "DynamoFaqs", "DynamoSupervision", "DynamoTasks",
           "DynamoTrails", "DynamoVerifications", "bind", "china_day", "DynamoStaffAccounts",
           "StaffAccountModel", "DynamoRealNameAttempts"]
