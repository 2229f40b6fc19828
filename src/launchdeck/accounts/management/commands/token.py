from django.core.management.base import BaseCommand, CommandError

from launchdeck.accounts import services
from launchdeck.accounts.models import ApiToken, User
from launchdeck.core.errors import DomainError


class Command(BaseCommand):
    help = "Manage API bearer tokens: create (prints the token alone on its last line), list, revoke."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser("create", help="Create a token; the token is printed once, on the last line.")
        create.add_argument("--user", required=True, help="Username the token acts as.")
        create.add_argument("--name", default="command line", help="What the token is for.")
        create.add_argument("--expires", type=int, metavar="DAYS", help="Days until it expires (default: never).")
        listing = sub.add_parser("list", help="List tokens (never the tokens themselves).")
        listing.add_argument("--user", help="Only this user's tokens.")
        revoke = sub.add_parser("revoke", help="Revoke a token by its id (see `token list`) or by the token itself.")
        revoke.add_argument("token", help="The token id, or the token.")
        revoke.add_argument("--reason", default="")

    def handle(self, *args, action, **options):
        try:
            getattr(self, "_" + action)(**options)
        except DomainError as exc:
            details = "; ".join(e["message"] for e in exc.errors)
            raise CommandError(details or exc.detail) from None

    def _create(self, *, user, name, expires, **_):
        owner = User.objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"No user named {user!r}.")
        token, raw = services.api_token_create(actor=None, user=owner, name=name, expires_in_days=expires)
        expiry = token.expires_at.isoformat() if token.expires_at else "never"
        self.stdout.write(f"Token {token.pk} for {owner.username} ({token.name}), expires {expiry}. Shown only now:")
        self.stdout.write(raw)

    def _list(self, *, user, **_):
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "-created_at")
        if user:
            tokens = tokens.filter(user__username=user)
        for token in tokens:
            expiry = token.expires_at.date().isoformat() if token.expires_at else "never"
            used = token.last_used_at.isoformat(timespec="minutes") if token.last_used_at else "never"
            self.stdout.write(
                f"{token.pk:>6}  {token.prefix}…  {token.user.username:<20} {token.state:<8} "
                f"expires {expiry:<10} last used {used:<16} {token.name}"
            )

    def _revoke(self, *, token, reason, **_):
        if token.isdigit() and len(token) < 19:
            row = ApiToken.objects.filter(pk=int(token)).first()
        else:
            row = ApiToken.objects.filter(digest=services.token_digest(token)).first()
        if row is None:
            raise CommandError("No such token.")
        services.api_token_revoke(actor=None, token=row, reason=reason)
        self.stdout.write(f"Token {row.pk} ({row.name}) of {row.user.username} is revoked.")
