"""`{{ article.body|markdown }}`: Markdown rendered to sanitised HTML (`problems.markdown`)."""

from django import template

from problems.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown", is_safe=True)
def markdown_filter(value) -> str:
    return render_markdown(str(value) if value is not None else "")
