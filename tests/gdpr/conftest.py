from tests.api.conftest import (  # noqa: F401 (fixtures shared with the API tests)
    _fast_password_hashing,
    other_world,
    personas,
    world,
)
