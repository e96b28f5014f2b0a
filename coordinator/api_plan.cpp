#include "coordinator/api_plan.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "coordinator/http_errors.h"

namespace lowbit::coordinator::http_api {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX and "+" decoded; a "%" not followed by two hex digits stays as it is.
std::string percent_decoded(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> query_of(const Request& request) {
  const std::string_view target(request.target().data(), request.target().size());
  std::map<std::string, std::string> query;
  const std::size_t mark = target.find('?');
  if (mark == std::string_view::npos) return query;
  std::string_view rest = target.substr(mark + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const std::size_t eq = pair.find('=');
    query[percent_decoded(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : percent_decoded(pair.substr(eq + 1));
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return query;
}

std::optional<std::int64_t> parse_id(const std::string& text) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id < 1) return std::nullopt;
  return id;
}

std::optional<double> number_parameter(const std::map<std::string, std::string>& query,
                                       const std::string& name) {
  const auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  double value = 0;
  const std::string& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value)) {
    throw std::invalid_argument(
        fmt::format("query parameter {}: \"{}\" is not a number", name, text));
  }
  return value;
}

Plan answer(Response response) {
  Plan plan;
  plan.answer = std::move(response);
  return plan;
}

Plan db(DbStep step, bool may_free_jobs) {
  Plan plan;
  plan.step = std::move(step);
  plan.may_free_jobs = may_free_jobs;
  return plan;
}

Response not_found(std::string_view what, const std::string& id) {
  return error_response(http::status::not_found, fmt::format("no {} \"{}\"", what, id));
}

}  // namespace lowbit::coordinator::http_api
