from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from launchdeck.accounts import selectors, services
from launchdeck.accounts.forms import PasswordChangeForm, TokenCreateForm, UserCreateForm, UserEditForm
from launchdeck.accounts.roles import Role
from launchdeck.core.errors import DomainError
from launchdeck.core.forms import add_domain_error

PAGE_SIZE = 50


NEW_TOKEN_SESSION_KEY = "launchdeck.new_api_token"


@login_required
def token_list(request):
    """Your API tokens: create one (shown once), see when each was last used, revoke."""
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = services.api_token_create(
                actor=request.user,
                user=request.user,
                name=form.cleaned_data["name"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            # Redirect, so that reloading the page cannot create a second token; the token itself rides in
            # the session for exactly one page view.
            request.session[NEW_TOKEN_SESSION_KEY] = {"name": token.name, "raw": raw}
            return redirect("accounts:token_list")
    tokens = selectors.api_token_list(user=request.user).order_by("revoked_at", "-created_at")
    return render(
        request,
        "accounts/apitoken_list.html",
        {
            "form": form,
            "created": request.session.pop(NEW_TOKEN_SESSION_KEY, None) if request.method == "GET" else None,
            "tokens": tokens,
            "can_create": request.user.has_perm("accounts.add_apitoken"),
        },
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def token_revoke(request, token_id: int):
    token = selectors.api_token_get(user=request.user, token_id=token_id)
    try:
        services.api_token_revoke(actor=request.user, token=token)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"Token {token.name!r} is revoked; it no longer authenticates.")
    return redirect("accounts:token_list")


@login_required
def password_change(request):
    form = PasswordChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(
                actor=request.user, user=request.user, password=form.cleaned_data["new_password"]
            )
        except DomainError as exc:
            exc.errors = [{**error, "field": "new_password"} for error in exc.errors]
            add_domain_error(form, exc)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, "Your password is changed.")
            return redirect("core:home")
    return render(request, "accounts/password_change.html", {"form": form}, status=422 if form.errors else 200)


@login_required
@permission_required("accounts.view_user", raise_exception=True)
def user_list(request):
    """People who can sign in, by role; administrators add and edit them here."""
    search = request.GET.get("q", "").strip()[:150]
    role = request.GET.get("role") if request.GET.get("role") in Role.values else None
    users = selectors.user_list(user=request.user, search=search or None, role=role)
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.users_by_role(user=request.user)
    template = "accounts/partials/_user_table.html" if request.htmx else "accounts/user_list.html"
    return render(
        request,
        template,
        {
            "page": page,
            "search": search,
            "role": role,
            "roles": Role.choices,
            "role_counts": [(label, counts.get(value, 0)) for value, label in Role.choices],
            "can_add": request.user.has_perm("accounts.add_user"),
        },
    )


@login_required
@permission_required("accounts.add_user", raise_exception=True)
def user_create(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"User {user.username} is created.")
            return redirect("accounts:user_detail", username=user.username)
    return render(request, "accounts/user_form.html", {"form": form}, status=422 if form.errors else 200)


@login_required
def user_detail(request, username: str):
    """One user: details, roles, and (for administrators) the form to change them; History tab."""
    subject = selectors.user_get(user=request.user, username=username)
    can_change = request.user.has_perm("accounts.change_user")
    form = None
    if can_change:
        initial = {
            "version": subject.version,
            "first_name": subject.first_name,
            "last_name": subject.last_name,
            "email": subject.email,
            "roles": subject.roles,
            "is_active": subject.is_active,
        }
        form = UserEditForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.user_update(actor=request.user, user=subject, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"User {subject.username} is updated.")
                return redirect("accounts:user_detail", username=subject.username)
    elif request.method == "POST":
        raise PermissionDenied("Your role does not allow changing users.")
    tokens = selectors.api_token_list(user=request.user, owner=subject) if can_change else []
    failed_logins = selectors.user_failed_logins(user=request.user, subject=subject)
    return render(
        request,
        "accounts/user_detail.html",
        {"subject": subject, "form": form, "tokens": tokens, "failed_logins": failed_logins},
        status=422 if form is not None and form.errors else 200,
    )


@login_required
@require_POST
@permission_required("accounts.change_user", raise_exception=True)
def user_unlock(request, username: str):
    subject = selectors.user_get(user=request.user, username=username)
    try:
        services.user_unlock(actor=request.user, user=subject)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"{subject.username} may sign in again.")
    return redirect("accounts:user_detail", username=subject.username)
