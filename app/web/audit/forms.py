from wtforms import DateField, StringField
from wtforms.validators import Length, Optional

from app.web.forms import BaseForm

DATE_MESSAGE = "Enter a date as YYYY-MM-DD."


class FilterEventsForm(BaseForm):
    """The log's filters, read from the query string (a GET form: no CSRF token)."""

    keeps_text = False

    class Meta:
        csrf = False

    actor = StringField(
        "Who",
        validators=[Length(max=254, message="Use at most 254 characters.")],
        description="Part of an email or name.",
    )
    action = StringField(
        "Action",
        validators=[Length(max=64, message="Use at most 64 characters.")],
        description="The start of an action, e.g. member. or org.created",
    )
    target = StringField(
        "Target",
        validators=[Length(max=254, message="Use at most 254 characters.")],
        description="Part of its name, or its id.",
    )
    since = DateField("From", validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    until = DateField("To", validators=[Optional()], invalid_value_message=DATE_MESSAGE)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.since.data and self.until.data and self.until.data < self.since.data:
            self.until.errors = [*self.until.errors, "Choose a day on or after the start."]
            ok = False
        return ok
