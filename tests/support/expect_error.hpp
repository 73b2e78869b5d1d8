#pragma once
/// @file expect_error.hpp
/// Checking that a call fails with one exact logz::Error: its message and its exit code.
#include <gtest/gtest.h>

#include <string>

#include "logz/core/check.hpp"

namespace logz::test {

/// Calls `f` and expects it to throw logz::Error with exactly `message` and `code`; a
/// call that returns normally is a test failure, and any other exception propagates
/// (failing the test).
template <class F>
void expect_error(F&& f, Exit code, const std::string& message) {
  try {
    f();
    ADD_FAILURE() << "no error; expected: " << message;
  } catch (const Error& e) {
    EXPECT_EQ(e.what(), message);
    EXPECT_EQ(e.code(), code);
  }
}

}  // namespace logz::test
