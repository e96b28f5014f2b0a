#pragma once
// How the scheduler answers: expected failures are values, each with a code chosen by what the
// caller should do — fix the input, look elsewhere, or stop using a lease it no longer holds.
// The HTTP layer maps the codes to 400, 404 and 409 and the message (and pointer) into its one
// error shape.

#include <string>
#include <utility>

namespace lowbit::coordinator {

enum class Code {
  kOk,
  kInvalid,   // the input is wrong: fix it (HTTP 400)
  kNotFound,  // no such sweep, lease or worker (HTTP 404)
  kConflict,  // the lease is stale, foreign or already finished (HTTP 409)
};

template <typename T>
struct Outcome {
  Code code = Code::kOk;
  std::string message;  // set unless ok
  std::string pointer;  // kInvalid: JSON pointer into the input, "" for the root
  T value{};            // meaningful only when ok

  bool ok() const { return code == Code::kOk; }

  static Outcome success(T value) { return {Code::kOk, {}, {}, std::move(value)}; }
  static Outcome failure(Code code, std::string message, std::string pointer = {}) {
    return {code, std::move(message), std::move(pointer), T{}};
  }
};

}  // namespace lowbit::coordinator
