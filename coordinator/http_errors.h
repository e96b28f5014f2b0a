#pragma once
// The API's one error shape (docs/coordinator.md "Errors"),
// `{"error": {"status": 400, "message": "...", "pointer": "/axes"}}`,
// and the status each scheduler outcome maps to: 400 the input is wrong (malformed JSON, schema
// or semantic violation, the pointer names the field), 401 no token, 403 wrong role, 404 unknown
// id or route, 405 wrong method, 409 stale or foreign lease, 413 body over the limit, 503 the
// database queue is full (retry later).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "coordinator/http_types.h"
#include "coordinator/outcome.h"

namespace lowbit::coordinator::http_api {

Response json_response(http::status status, const nlohmann::json& body);
Response empty_response(http::status status);

// `pointer` is set for errors about a place in the request body ("" is the body's root).
Response error_response(http::status status, const std::string& message,
                        const std::optional<std::string>& pointer = std::nullopt);

http::status status_of(Code code);

template <typename T>
Response error_from(const Outcome<T>& outcome) {
  std::optional<std::string> pointer;
  if (outcome.code == Code::kInvalid) pointer = outcome.pointer;
  return error_response(status_of(outcome.code), outcome.message, pointer);
}

}  // namespace lowbit::coordinator::http_api
