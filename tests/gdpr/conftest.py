from tests.api.conftest import (  # noqa: F401 (fixtures shared with the API tests)
    _fast_password_hashing,
    _fresh_throttles,
    other_world,
    personas,
    world,
)
