from django import forms

from launchdeck.accounts.roles import Role


class RolesField(forms.MultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False, **kwargs)


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    roles = RolesField()
    password = forms.CharField(widget=forms.PasswordInput, max_length=128, help_text="At least 10 characters.")


class UserEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    roles = RolesField()
    is_active = forms.BooleanField(required=False, label="May sign in")


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'CI pipeline for payments'.")
    expires_in_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        initial=90,
        label="Expires after (days)",
        help_text="Leave empty for a token that does not expire.",
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(widget=forms.PasswordInput, label="Current password", max_length=128)
    new_password = forms.CharField(widget=forms.PasswordInput, label="New password", max_length=128)
    new_password_again = forms.CharField(widget=forms.PasswordInput, label="New password again", max_length=128)

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError("This is not your current password.")
        return value

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", "The two new passwords differ.")
        return data
