"""Permission classes: one rule each, each a one-line wrapper of the rule's function.

Who may change the rota or a policy is checked by the write services themselves
(rota.permissions, escalation.permissions), so every way in gets it; what is left here
guards reads no service makes.
"""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from rota.models import Person
from rota.permissions import is_switchboard


class SwitchboardOnly(BasePermission):
    """Only switchboard operators see the board of every open bleep."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.user, Person) and is_switchboard(request.user)
