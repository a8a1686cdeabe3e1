from __future__ import annotations

import string

import pytest
from ansible_collections.image_delivery.stack.plugins.module_utils.generated_secrets import (
    generate_secret,
    parameter_name_is_valid,
)


def test_secrets_have_the_length_and_alphabet_asked_for_and_differ():
    first, second = generate_secret(48), generate_secret(48)
    assert len(first) == 48 and first != second
    assert set(first) <= set(string.ascii_letters + string.digits)


def test_short_secrets_are_refused():
    with pytest.raises(ValueError):
        generate_secret(8)


@pytest.mark.parametrize(
    ("name", "valid"),
    [("/stack/origin-secret", True), ("stack.secret_1", True), ("", False), ("/aws/reserved", False), ("/a b", False)],
)
def test_parameter_names(name, valid):
    assert parameter_name_is_valid(name) is valid
