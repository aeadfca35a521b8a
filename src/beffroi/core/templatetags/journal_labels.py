from django import template

from beffroi.core.action_labels import action_label

register = template.Library()
register.filter("action_label", action_label)
