"""Plumbing for the list, detail, form and delete pages every domain app has (NetBox's mechanism, made explicit).

Apps keep their own thin views and say what to show; these helpers do the paging, htmx partials, the mapping of
service refusals to form errors, and the redirects, so that all pages behave alike.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from launchdeck.core.errors import DomainError
from launchdeck.core.forms import add_domain_error

PAGE_SIZE = 50
MAX_ID_DIGITS = 18  # a bigint's ids; a longer number is nobody's id


def parse_id(value: object) -> int | None:
    """The id a request names ("34", " 34 "), or None for anything else: ASCII digits only (`"²".isdigit()` is
    true but `int("²")` fails), positive, no leading zero, at most 18 digits."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_ID_DIGITS or text.startswith("0"):
        return None
    return int(text)


@dataclass(frozen=True)
class Column:
    """A table column: its heading and how to get the cell from a row; `link` makes it the row's link."""

    label: str
    value: Callable[[Any], Any]
    link: bool = False
    numeric: bool = False


def list_page(
    request: HttpRequest,
    *,
    title: str,
    queryset: QuerySet,
    columns: list[Column],
    filters=None,
    create_url: str | None = None,
    intro: str = "",
    chart: dict | None = None,
    template: str = "core/object_list.html",
    extra: Callable[[list], None] | None = None,
    context: dict | None = None,
) -> HttpResponse:
    """A searchable, filterable, paged table; htmx requests get just the table.

    `template` may extend core/object_list.html (an app's sub-navigation, say) and `context` add to what it gets;
    `extra(rows)` may add per-page data to the page's rows (one query for the page) before the cells are computed.
    """
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    objects = list(page)
    if extra:
        extra(objects)
    rows = [
        {"url": row.get_absolute_url(), "cells": [(column, column.value(row)) for column in columns]} for row in objects
    ]
    context = {
        **(context or {}),
        "title": title,
        "intro": intro,
        "columns": columns,
        "rows": rows,
        "page": page,
        "filters": filters,
        "create_url": create_url,
        "chart": chart,
    }
    return render(request, "core/partials/_object_table.html" if request.htmx else template, context)


def form_page(
    request: HttpRequest,
    *,
    form,
    title: str,
    save: Callable[[dict], Model],
    success: str,
    cancel_url: str,
    template: str = "core/object_form.html",
    done_url: str | None = None,
) -> HttpResponse:
    """Show a form; on a valid post call `save(cleaned_data)` (a service) and go to `done_url`, else to the saved
    object's page."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, success.format(object=saved))
            return redirect(done_url or saved.get_absolute_url())
    status = 422 if form.errors else 200
    return render(request, template, {"form": form, "title": title, "cancel_url": cancel_url}, status=status)


def delete_page(
    request: HttpRequest,
    *,
    obj: Model,
    delete: Callable[[], None],
    done_url: str,
    cancel_url: str,
    template: str = "core/object_delete.html",
) -> HttpResponse:
    """Ask to confirm (`template`, which may extend core/object_delete.html), then call `delete()` (a service); a
    refusal (still in use) is shown, nothing is removed."""
    if request.method == "POST":
        try:
            delete()
        except DomainError as exc:
            messages.error(request, exc.detail)
            return redirect(cancel_url)
        messages.success(request, f"{obj} is deleted.")
        return redirect(done_url)
    return render(request, template, {"object": obj, "cancel_url": cancel_url})


def detail_page(
    request: HttpRequest,
    *,
    obj: Model,
    list_url: str,
    list_title: str,
    fields: list[tuple[str, Any]],
    edit_url: str | None = None,
    delete_url: str | None = None,
    template: str = "core/object_detail.html",
    **extra,
) -> HttpResponse:
    """An object page: its fields, what the app adds beside them, and the History tab."""
    context = {
        "object": obj,
        "object_type": obj._meta.label_lower,
        "list_url": list_url,
        "list_title": list_title,
        "fields": fields,
        "edit_url": edit_url,
        "delete_url": delete_url,
        **extra,
    }
    return render(request, template, context)
