from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from launchdeck.core.errors import DomainError
from launchdeck.core.forms import add_domain_error
from launchdeck.integrations import services
from launchdeck.integrations.api import CONTENT_TYPES
from launchdeck.integrations.datasets import DATASETS
from launchdeck.integrations.forms import ExportForm, ImportForm
from launchdeck.integrations.models import ImportBatch


@login_required
def exchange(request):
    """Import spreadsheets (with a dry run first) and export the data as CSV or XLSX."""
    import_form = ImportForm()
    export_form = ExportForm(initial={"datasets": list(DATASETS), "format": "xlsx"})
    batches = ImportBatch.objects.restrict(request.user).defer("content")[:10]
    return render(
        request,
        "integrations/exchange.html",
        {
            "import_form": import_form,
            "export_form": export_form,
            "batches": batches,
            "datasets": DATASETS.values(),
            "can_import": request.user.has_perm("integrations.add_importbatch"),
        },
    )


@login_required
@require_POST
@permission_required("integrations.add_importbatch", raise_exception=True)
def import_upload(request):
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.check_upload_size(upload.size)
            batch = services.import_preview(
                actor=request.user, file_name=upload.name, content=upload.read(), dataset=form.cleaned_data["dataset"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return redirect(batch.get_absolute_url())
    batches = ImportBatch.objects.restrict(request.user).defer("content")[:10]
    context = {
        "import_form": form,
        "export_form": ExportForm(initial={"datasets": list(DATASETS), "format": "xlsx"}),
        "batches": batches,
        "datasets": DATASETS.values(),
        "can_import": True,
    }
    return render(request, "integrations/exchange.html", context, status=422)


@login_required
def import_detail(request, pk: int):
    """The dry-run report of an import: every row and what would happen to it; apply when nothing is rejected."""
    batch = ImportBatch.objects.restrict(request.user).defer("content").get_visible(pk=pk)
    rows = batch.report.get("rows", [])
    show = request.GET.get("show", "rejected" if batch.report.get("rejected") else "all")
    shown = [row for row in rows if show == "all" or row["action"] == show]
    return render(
        request,
        "integrations/import_detail.html",
        {"batch": batch, "rows": shown[:2000], "hidden": max(0, len(shown) - 2000), "show": show},
    )


@login_required
@require_POST
@permission_required("integrations.add_importbatch", raise_exception=True)
def import_apply(request, pk: int):
    batch = ImportBatch.objects.restrict(request.user).get_visible(pk=pk)
    try:
        services.import_apply(actor=request.user, batch=batch)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        total = batch.report.get("summary", {})
        changed = sum(counts.get("created", 0) + counts.get("updated", 0) for counts in total.values())
        messages.success(request, f"Imported: {changed} rows created or updated.")
    return redirect(batch.get_absolute_url())


@login_required
def export(request):
    form = ExportForm(request.GET)
    if not form.is_valid():
        messages.error(request, "Choose at least one dataset and a format.")
        return redirect("integrations:exchange")
    try:
        name, content = services.export_file(
            user=request.user,
            datasets=form.cleaned_data["datasets"],
            file_format=form.cleaned_data["format"],
            template=form.cleaned_data["template"],
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("integrations:exchange")
    response = HttpResponse(content, content_type=CONTENT_TYPES[form.cleaned_data["format"]])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
