"""Filter forms rendered cheaply: Bootstrap classes set on the widgets once, plain templates render them.

(Rendering each filter field through crispy-forms cost about 30 ms a page on the staff workbench.)
"""

from django import forms


class BootstrapFilterMixin:
    """For django-filter FilterSets: gives every widget of ``self.form`` its Bootstrap class."""

    @property
    def form(self):
        form = super().form
        if not getattr(form, "_bootstrapped", False):
            for field in form.fields.values():
                widget = field.widget
                css = "form-select" if isinstance(widget, forms.Select) else "form-control"
                widget.attrs.setdefault("class", css)
            form._bootstrapped = True
        return form
