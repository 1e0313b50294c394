//! Empty: the end-to-end tests are in `tests/`.
