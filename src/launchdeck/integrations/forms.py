from django import forms

from launchdeck.core.forms import StyledForm
from launchdeck.integrations.datasets import DATASETS


def _dataset_choices():
    return [(key, dataset.title) for key, dataset in DATASETS.items()]


class ImportForm(StyledForm):
    file = forms.FileField(
        help_text="An XLSX workbook with one sheet per kind of row (named e.g. teams, systems), or a CSV file."
    )
    dataset = forms.ChoiceField(
        choices=[("", "(XLSX: taken from the sheet names)"), *_dataset_choices()],
        required=False,
        label="What a CSV file holds",
    )


class ExportForm(StyledForm):
    datasets = forms.MultipleChoiceField(choices=_dataset_choices, widget=forms.CheckboxSelectMultiple, label="Include")
    format = forms.ChoiceField(choices=[("xlsx", "XLSX workbook (a sheet each)"), ("csv", "CSV (one dataset)")])
    template = forms.BooleanField(required=False, label="Empty template (headers only)")
