"""Permission classes: one rule each."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from escalation.models import Policy
from escalation.selectors import may_change_policy
from rota.models import Person
from rota.selectors import is_switchboard, may_change


class RotaManagersChangeTheirOwnRota(BasePermission):
    """Everyone signed in reads the rota; only a rota manager of its team or site changes it."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return isinstance(user, Person) and user.job == Person.Job.ROTA_MANAGER

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return isinstance(request.user, Person) and may_change(request.user, obj)


class RotaManagersChangeTheirOwnPolicies(RotaManagersChangeTheirOwnRota):
    """Everyone signed in reads escalation policies; only a manager of the scope changes one."""

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return isinstance(user, Person) and isinstance(obj, Policy) and may_change_policy(user, obj)


class SwitchboardOnly(BasePermission):
    """Only switchboard operators see the board of every open bleep."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return isinstance(user, Person) and is_switchboard(user)
