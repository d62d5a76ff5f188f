from django import forms
from django.utils.translation import gettext_lazy as _

from vaxops.interop.models import Mode


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=[("people", _("People")), ("doses", _("Doses"))])
    file = forms.FileField(label=_("File (CSV or xlsx)"))
    mode = forms.ChoiceField(label=_("Mode"), choices=Mode.choices, initial=Mode.ROWS, widget=forms.RadioSelect)
    encoding = forms.ChoiceField(label=_("Text encoding (CSV)"), initial="auto", choices=[
        ("auto", _("Automatic (UTF-8, or GB18030 when it reads as Chinese)")), ("utf-8", "UTF-8"),
        ("gb18030", "GB18030")])
    reason = forms.CharField(label=_("Reason (required for doses: why they are entered now)"), required=False,
                             max_length=200)
