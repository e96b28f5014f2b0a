#include "coordinator/http_errors.h"

namespace lowbit::coordinator::http_api {

Response json_response(http::status status, const nlohmann::json& body) {
  Response response{status, 11};
  response.set(http::field::content_type, "application/json");
  // Replace invalid UTF-8 instead of throwing: a message may quote the client's bytes.
  response.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  response.prepare_payload();
  return response;
}

Response empty_response(http::status status) {
  Response response{status, 11};
  response.prepare_payload();
  return response;
}

Response error_response(http::status status, const std::string& message,
                        const std::optional<std::string>& pointer) {
  nlohmann::json error = {{"status", static_cast<int>(status)}, {"message", message}};
  if (pointer) error["pointer"] = *pointer;
  return json_response(status, {{"error", error}});
}

http::status status_of(Code code) {
  switch (code) {
    case Code::kOk:
      return http::status::ok;
    case Code::kInvalid:
      return http::status::bad_request;
    case Code::kNotFound:
      return http::status::not_found;
    case Code::kConflict:
      return http::status::conflict;
  }
  return http::status::internal_server_error;
}

}  // namespace lowbit::coordinator::http_api
