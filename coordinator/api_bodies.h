#pragma once
// Request bodies: parsing and validation against JSON Schemas, so every bad body gets the same
// answer as a bad sweep — 400 with the pointer of the first error and its reason. The worker
// protocol's small envelopes have their schemas here; the worker registration uses
// schemas/worker.schema.json.

#include <nlohmann/json.hpp>
#include <optional>

#include "coordinator/http_types.h"
#include "protocol/json_schema.h"

namespace lowbit::coordinator::http_api {

struct Body {
  nlohmann::json document;
  std::optional<Response> error;  // set when the body is not acceptable
};

// Malformed JSON is 400 with the byte offset; with a schema, a violation is 400 with its pointer.
Body parse_json_body(const Request& request, const protocol::JsonSchema* schema = nullptr);

// For POSTs that take no input: an empty body or `{}`.
std::optional<Response> expect_empty_object(const Request& request);

const protocol::JsonSchema& worker_schema();
const protocol::JsonSchema& lease_request_schema();    // {worker_id, wait_s?}
const protocol::JsonSchema& heartbeat_schema();        // {worker_id}
const protocol::JsonSchema& result_request_schema();   // {worker_id, result}
const protocol::JsonSchema& failure_request_schema();  // {worker_id, error}

}  // namespace lowbit::coordinator::http_api
