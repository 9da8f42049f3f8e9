from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from app.services.audit.words import label_of
from app.web.forms import BaseForm

DATE_MESSAGE = "Enter a date as YYYY-MM-DD."
ANY_ACTION = SelectChoice("", "Any action")


def day_field(label: str, **kwargs) -> DateField:
    """An optional whole UTC day (a log filter's range end)."""
    return DateField(label, validators=[Optional()], invalid_value_message=DATE_MESSAGE, **kwargs)


class DayRangeFilters(BaseForm):
    """A log's filters, read from the query string (a GET form: no CSRF token), with a
    day range in ``since`` and ``until`` (``day_field``s) that must not run backwards."""

    keeps_text = False

    class Meta:
        csrf = False

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        since, until = self["since"].data, self["until"].data
        if ok and since and until and until < since:
            self["until"].errors = [*self["until"].errors, "Choose a day on or after the start."]
            ok = False
        return ok


class FilterEventsForm(DayRangeFilters):
    """The org's or tenant's log filters."""

    actor = StringField(
        "Who",
        validators=[Length(max=254, message="Use at most 254 characters.")],
        description="Part of a name or email.",
    )
    # The options are actions in words, their values the codes; any other value (a code's
    # start, typed into the address, such as "member.") still filters, by prefix.
    action = SelectField(
        "Action",
        choices=[ANY_ACTION],
        validate_choice=False,
        validators=[Length(max=64, message="Use at most 64 characters.")],
    )
    target = StringField(
        "Target",
        validators=[Length(max=254, message="Use at most 254 characters.")],
        description="Part of its name, or its id.",
    )
    since = day_field("From")
    until = day_field("To")

    def offer_actions(self, groups: dict[str, list[tuple[str, str]]]) -> None:
        """The action select's options, grouped; the chosen value stays offered even when
        it is no action of this log (or a prefix typed by hand)."""
        offered = [
            SelectChoice(code, label, optgroup=group)
            for group, options in groups.items()
            for code, label in options
        ]
        chosen = (self.action.data or "").strip()
        choices = [ANY_ACTION]
        if chosen and chosen not in {choice.value for choice in offered}:
            shown = label_of(chosen)
            choices.append(
                SelectChoice(chosen, shown if shown != chosen else f"Codes starting “{chosen}”")
            )
        self.action.choices = [*choices, *offered]
