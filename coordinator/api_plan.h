#pragma once
// What every route handler builds its Plan from (api_routes.h): the query string, ids in the
// path, and the two kinds of plan — answered now, or a step for the database thread.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "coordinator/api_routes.h"

namespace lowbit::coordinator::http_api {

// The query parameters, percent-decoded ("+" is a space); a later repeat of a name wins.
std::map<std::string, std::string> query_of(const Request& request);

// A positive decimal id, or nothing.
std::optional<std::int64_t> parse_id(const std::string& text);

// A number query parameter: nullopt when absent; throws std::invalid_argument naming the
// parameter when it is not a finite number.
std::optional<double> number_parameter(const std::map<std::string, std::string>& query,
                                       const std::string& name);

Plan answer(Response response);
Plan db(DbStep step, bool may_free_jobs = false);

// 404 `no <what> "<id>"`.
Response not_found(std::string_view what, const std::string& id);

}  // namespace lowbit::coordinator::http_api
