import csv
import io

from flask_wtf.file import FileAllowed, FileField, FileSize
from wtforms import (
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.services.invitations import MAX_MESSAGE, split_addresses
from app.services.join_links import MAX_DAYS, MAX_USES
from app.web.forms import BaseForm

MAX_CSV_BYTES = 1024 * 1024
# A cell starting with one of these is a spreadsheet formula, not an address.
FORMULA_STARTS = ("=", "+", "-", "@")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class InviteMembersForm(BaseForm):
    """Addresses come typed, from a CSV file, or both; the service judges each one."""

    emails = TextAreaField(
        "Email addresses",
        description="One or many, separated by commas, spaces or new lines.",
        render_kw={"rows": 5, "autocomplete": "off", "spellcheck": "false"},
    )
    csv_file = FileField(
        "Or upload a CSV file",
        validators=[
            FileAllowed(["csv", "txt"], "Upload a .csv file."),
            FileSize(MAX_CSV_BYTES, message="Upload a file of at most 1 MB."),
        ],
        description="Every cell that holds an email address counts; a header row is fine.",
        render_kw={"accept": ".csv,text/csv,.txt"},
    )
    role = SelectField("Role", choices=[], validators=[DataRequired("Choose a role.")])
    teams = MultiCheckboxField("Teams", choices=[])
    message = TextAreaField(
        "Personal message",
        validators=[
            Optional(),
            Length(max=MAX_MESSAGE, message=f"Use at most {MAX_MESSAGE} characters."),
        ],
        description=f"Optional; included in the email. At most {MAX_MESSAGE} characters.",
        render_kw={"rows": 3},
    )
    submit = SubmitField("Send invitations")

    # Filled in by validate(): what the file held.
    csv_addresses: list[str]
    skipped_formulas: int

    def validate(self, extra_validators=None) -> bool:
        self.csv_addresses, self.skipped_formulas = [], 0
        ok = super().validate(extra_validators)
        if ok and self.csv_file.data:
            ok = self._read_csv()
        if ok and not self.addresses():
            message = (
                "The file holds no email addresses."
                if self.csv_file.data
                else "Enter at least one email address, or upload a CSV file."
            )
            self.emails.errors = [*self.emails.errors, message]
            ok = False
        return ok

    def _read_csv(self) -> bool:
        raw = self.csv_file.data.read(MAX_CSV_BYTES + 1)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        try:
            rows = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error:
            self.csv_file.errors = [*self.csv_file.errors, "This file can't be read as CSV."]
            return False
        for row in rows:
            for cell in row:
                cell = cell.strip()
                if "@" not in cell:
                    continue  # a header, a name, a number: not an address
                if cell.startswith(FORMULA_STARTS):
                    self.skipped_formulas += 1
                    continue
                self.csv_addresses.extend(part for part in split_addresses(cell) if "@" in part)
        return True

    def addresses(self) -> list[str]:
        """Typed addresses first, then the file's, each once."""
        typed = split_addresses(self.emails.data or "")
        return list(dict.fromkeys([*typed, *self.csv_addresses]))


class CreateJoinLinkForm(BaseForm):
    role = SelectField("Role", choices=[], validators=[DataRequired("Choose a role.")])
    max_uses = IntegerField(
        "Maximum uses",
        validators=[Optional(), NumberRange(1, MAX_USES, f"Use a number from 1 to {MAX_USES:,}.")],
        description="Leave empty for no limit.",
    )
    expires_in_days = IntegerField(
        "Expires after (days)",
        validators=[Optional(), NumberRange(1, MAX_DAYS, f"Use 1 to {MAX_DAYS} days.")],
        description="Leave empty to keep the link until you revoke it.",
    )
    allowed_domain = StringField(
        "Only for addresses at",
        validators=[Optional(), Length(max=253, message="Use at most 253 characters.")],
        description="A domain such as example.com; leave empty to allow any address.",
    )
    submit = SubmitField("Create join link")
