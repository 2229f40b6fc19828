import getpass

from django.core.management.base import BaseCommand, CommandError

from launchdeck.accounts import services
from launchdeck.accounts.models import User
from launchdeck.accounts.roles import Role
from launchdeck.core.errors import DomainError


class Command(BaseCommand):
    help = "Manage people who sign in: create, list, set-roles, set-password, unlock."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser("create", help="Create a user.")
        create.add_argument("username")
        create.add_argument("--role", action="append", default=[], choices=Role.values, help="Repeat for several.")
        create.add_argument("--email", default="")
        create.add_argument("--first-name", default="")
        create.add_argument("--last-name", default="")
        create.add_argument("--password", help="Prompted for when omitted (safer than the command line).")
        sub.add_parser("list", help="List users and their roles.")
        roles = sub.add_parser("set-roles", help="Replace a user's roles.")
        roles.add_argument("username")
        roles.add_argument("--role", action="append", default=[], choices=Role.values)
        unlock = sub.add_parser("unlock", help="Clear failed sign-in attempts that lock a user out.")
        unlock.add_argument("username")
        password = sub.add_parser("set-password", help="Set a user's password (prompted for).")
        password.add_argument("username")
        password.add_argument("--password")

    def handle(self, *args, action, **options):
        try:
            getattr(self, "_" + action.replace("-", "_"))(**options)
        except DomainError as exc:
            details = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in exc.errors)
            raise CommandError(details or exc.detail) from None

    def _user(self, username):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        return user

    def _password(self, given):
        if given:
            return given
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password again: "):
            raise CommandError("The two passwords differ.")
        return first

    def _create(self, *, username, role, email, first_name, last_name, password, **_):
        user = services.user_create(
            actor=None,
            username=username,
            password=self._password(password),
            roles=role,
            email=email,
            first_name=first_name,
            last_name=last_name,
        )
        self.stdout.write(f"Created user {user.username} with roles: {', '.join(user.roles) or 'none'}")

    def _list(self, **_):
        for user in User.objects.prefetch_related("role_assignments").order_by("username"):
            roles = ",".join(sorted(a.role for a in user.role_assignments.all())) or "-"
            state = "active" if user.is_active else "deactivated"
            self.stdout.write(f"{user.username:<24} {state:<12} {roles}")

    def _set_roles(self, *, username, role, **_):
        user = services.user_update(actor=None, user=self._user(username), roles=role)
        self.stdout.write(f"{user.username} now holds: {', '.join(user.roles) or 'no role'}")

    def _set_password(self, *, username, password, **_):
        services.user_set_password(actor=None, user=self._user(username), password=self._password(password))
        self.stdout.write(f"Password of {username} is changed.")

    def _unlock(self, *, username, **_):
        cleared = services.user_unlock(actor=None, user=self._user(username))
        self.stdout.write(f"{username} may sign in again ({cleared} failed-attempt records cleared).")
