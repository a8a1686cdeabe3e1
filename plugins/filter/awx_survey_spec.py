"""Filter: an AWX job template's survey_spec, generated from the roles' argument specs.

A question names a variable and says how to ask for it (the question text, and the survey's
bounds). Everything the roles already know comes from the roles: the type (and so the survey's
answer type), the choices, the description, whether it is required, the default and whether it is
secret. So a survey cannot drift from the roles it feeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: awx_survey_spec
short_description: An AWX survey_spec whose questions take type, choices, default and help from the role argument specs
description:
  - Each question names a role variable and gives the question text (and bounds where the spec has
    none). The answer type comes from the argument spec (str -> text, int -> integer, choices ->
    multiplechoice, no_log -> password), as do the choices, the description, required and the
    default (from the role defaults, when it is not a template).
  - A question about a variable that no role declares must give its own type (a confirmation).
options:
  _input:
    description: The questions (variable, question_name, optional question_description, min, max, choices, required).
    type: list
    elements: dict
    required: true
  name:
    description: The survey's name.
    type: str
    required: true
  interface:
    description: The roles' interface, from the role_interface lookup (options and defaults).
    type: dict
    required: true
"""

EXAMPLES = r"""
survey_spec: "{{ questions | awx_survey_spec('Deploy stack', lookup('role_interface', project_root ~ '/roles')) }}"
"""

RETURN = r"""
_value:
  description: The survey_spec (name, description, spec) for awx.awx.job_template.
  type: dict
"""

# Role argument types a survey can ask for, and the survey answer type of each.
SURVEY_TYPES = {"str": "text", "path": "text", "raw": "text", "int": "integer", "float": "float"}
# Keys a question may set itself; the rest come from the argument spec.
QUESTION_KEYS = {"variable", "question_name", "question_description", "min", "max", "choices", "required", "type"}


class SurveyError(ValueError):
    """A question that cannot be turned into a survey item (unknown variable, unsupported type)."""


def _is_literal(value: Any) -> bool:
    """A default a survey can show: not a template that only means something at run time."""
    if isinstance(value, str):
        return "{{" not in value and "{%" not in value
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def survey_item(question: Mapping[str, Any], options: Mapping[str, dict], defaults: Mapping[str, Any]) -> dict:
    """One AWX survey item for a question about a role variable."""
    unknown = set(question) - QUESTION_KEYS
    if unknown:
        raise SurveyError(f"question keys not understood: {', '.join(sorted(unknown))}")
    variable = question.get("variable")
    if not variable or "question_name" not in question:
        raise SurveyError(f"a question needs variable and question_name: {dict(question)}")
    spec = options.get(variable)
    if spec is None:
        if "type" not in question:
            raise SurveyError(f"{variable} is not an argument of any role; give the question a type")
        return _free_item(question)
    if "type" in question:
        raise SurveyError(f"{variable} takes its type from the role argument spec; drop the question's type")

    role_type = spec.get("type", "str")
    if role_type not in SURVEY_TYPES:
        raise SurveyError(f"{variable} is a {role_type}: a survey can only ask for {', '.join(SURVEY_TYPES)}")
    choices = question.get("choices", spec.get("choices"))
    if spec.get("choices") and choices and not set(choices) <= set(spec["choices"]):
        raise SurveyError(f"choices of {variable} must be among the role's: {spec['choices']}")

    if spec.get("no_log"):
        answer_type = "password"
    elif choices:
        answer_type = "multiplechoice"
    else:
        answer_type = SURVEY_TYPES[role_type]

    default = defaults.get(variable)
    item: dict[str, Any] = {
        "variable": variable,
        "question_name": question["question_name"],
        "question_description": question.get("question_description", _description(spec)),
        "type": answer_type,
        "required": bool(question.get("required", spec.get("required", False) and not _is_literal(default))),
    }
    if choices:
        item["choices"] = list(choices)
    if _is_literal(default) and answer_type != "password":
        item["default"] = default
    for bound in ("min", "max"):
        if bound in question:
            item[bound] = question[bound]
    _check_default_within_bounds(item)
    return item


def _free_item(question: Mapping[str, Any]) -> dict:
    """A question about a playbook variable that no role declares (a confirmation, say)."""
    copied = ("variable", "question_name", "type", "min", "max", "choices")
    item = {key: question[key] for key in copied if key in question}
    item["question_description"] = question.get("question_description", "")
    item["required"] = bool(question.get("required", True))
    return item


def _description(spec: Mapping[str, Any]) -> str:
    description = spec.get("description", "")
    return " ".join(description) if isinstance(description, list) else str(description)


def _check_default_within_bounds(item: Mapping[str, Any]) -> None:
    default = item.get("default")
    if default is None:
        return
    measure = len(default) if item["type"] == "text" else default
    if item["type"] in ("text", "integer", "float"):
        low, high = item.get("min"), item.get("max")
        if (low is not None and measure < low) or (high is not None and measure > high):
            raise SurveyError(f"the default of {item['variable']} ({default!r}) is outside its survey bounds")
    if item["type"] == "multiplechoice" and default not in item["choices"]:
        raise SurveyError(f"the default of {item['variable']} ({default!r}) is not one of its choices")


def survey_spec(
    name: str, questions: Iterable[Mapping[str, Any]], options: Mapping[str, dict], defaults: Mapping[str, Any]
) -> dict:
    """The survey_spec of a job template (the awx.awx.job_template survey_spec option)."""
    items = [survey_item(question, options, defaults) for question in questions]
    variables = [item["variable"] for item in items]
    duplicates = sorted({variable for variable in variables if variables.count(variable) > 1})
    if duplicates:
        raise SurveyError(f"asked twice in survey {name}: {', '.join(duplicates)}")
    return {"name": name, "description": f"Variables of {name}", "spec": items}


def awx_survey_spec(questions: list, name: str, interface: Mapping) -> dict:
    if not isinstance(questions, list) or not all(isinstance(question, Mapping) for question in questions):
        raise AnsibleFilterError("awx_survey_spec expects a list of questions (mappings)")
    if not isinstance(interface, Mapping) or not {"options", "defaults"} <= set(interface):
        raise AnsibleFilterError("awx_survey_spec needs the role_interface lookup's result (options, defaults)")
    try:
        return survey_spec(name, questions, interface["options"], interface["defaults"])
    except SurveyError as error:
        raise AnsibleFilterError(f"awx_survey_spec({name}): {error}") from error


class FilterModule:
    def filters(self):
        return {"awx_survey_spec": awx_survey_spec}
