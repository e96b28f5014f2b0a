#include "coordinator/api_bodies.h"

#include <fmt/format.h>

#include "coordinator/http_errors.h"

namespace lowbit::coordinator::http_api {

namespace {

nlohmann::json envelope(nlohmann::json properties, std::vector<std::string> required) {
  properties["worker_id"] = {
      {"description", "the id POST /api/v1/workers returned"}, {"type", "integer"}, {"minimum", 1}};
  required.insert(required.begin(), "worker_id");
  return {{"$schema", "http://json-schema.org/draft-07/schema#"},
          {"type", "object"},
          {"additionalProperties", false},
          {"required", required},
          {"properties", properties}};
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the rest is the reason.
std::string reason_of(const nlohmann::json::exception& e) {
  const std::string what = e.what();
  const std::size_t end = what.find("] ");
  return end == std::string::npos ? what : what.substr(end + 2);
}

}  // namespace

Body parse_json_body(const Request& request, const protocol::JsonSchema* schema) {
  Body body;
  try {
    body.document = nlohmann::json::parse(request.body());
  } catch (const nlohmann::json::parse_error& e) {
    body.error = error_response(http::status::bad_request,
                                fmt::format("malformed JSON: {}", reason_of(e)), "");
    return body;
  }
  if (schema) {
    const auto errors = schema->validate(body.document);
    if (!errors.empty()) {
      std::string message = errors.front().to_string();
      if (errors.size() > 1) message += fmt::format(" (and {} more)", errors.size() - 1);
      body.error = error_response(http::status::bad_request, message, errors.front().pointer);
    }
  }
  return body;
}

std::optional<Response> expect_empty_object(const Request& request) {
  if (request.body().empty()) return std::nullopt;
  static const protocol::JsonSchema kEmpty({{"type", "object"}, {"additionalProperties", false}});
  Body body = parse_json_body(request, &kEmpty);
  return std::move(body.error);
}

const protocol::JsonSchema& worker_schema() {
  static const protocol::JsonSchema schema = protocol::JsonSchema::load("worker");
  return schema;
}

const protocol::JsonSchema& lease_request_schema() {
  static const protocol::JsonSchema schema(envelope(
      {{"wait_s",
        {{"description", "long-poll: wait up to this long for a job (capped by the server)"},
         {"type", "number"},
         {"minimum", 0}}}},
      {}));
  return schema;
}

const protocol::JsonSchema& heartbeat_schema() {
  static const protocol::JsonSchema schema(envelope(nlohmann::json::object(), {}));
  return schema;
}

const protocol::JsonSchema& result_request_schema() {
  static const protocol::JsonSchema schema(envelope(
      {{"result", {{"description", "the result document"}, {"type", "object"}}}}, {"result"}));
  return schema;
}

const protocol::JsonSchema& failure_request_schema() {
  static const protocol::JsonSchema schema(envelope(
      {{"error",
        {{"description", "why the job could not run"}, {"type", "string"}, {"minLength", 1}}}},
      {"error"}));
  return schema;
}

}  // namespace lowbit::coordinator::http_api
