#include "coordinator/auth.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "coordinator/http_errors.h"

namespace lowbit::coordinator::http_api {

std::string to_string(Role role) { return role == Role::kSubmit ? "submit" : "worker"; }

bool constant_time_equal(const std::string& a, const std::string& b) {
  // Walk the longer length whatever the contents; the length difference joins the verdict.
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

TokenTable TokenTable::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("--token-file {}: cannot read the file", path));
  std::stringstream text;
  text << in.rdbuf();
  return from_text(text.str(), path);
}

TokenTable TokenTable::from_text(const std::string& text, const std::string& origin) {
  TokenTable table;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    std::istringstream words(line);
    std::string role, token, extra;
    if (!(words >> role) || role.starts_with('#')) continue;  // blank line or comment
    if (!(words >> token) || (words >> extra)) {
      throw std::runtime_error(
          fmt::format("--token-file {}:{}: expected two words, ROLE TOKEN (roles submit, worker)",
                      origin, number));
    }
    if (role != "submit" && role != "worker") {
      throw std::runtime_error(fmt::format(
          "--token-file {}:{}: unknown role \"{}\" (roles submit, worker)", origin, number, role));
    }
    table.entries_.emplace_back(role == "submit" ? Role::kSubmit : Role::kWorker, token);
  }
  if (table.entries_.empty()) {
    throw std::runtime_error(fmt::format("--token-file {}: no ROLE TOKEN line", origin));
  }
  return table;
}

std::set<Role> TokenTable::roles_of(const std::string& token) const {
  std::set<Role> roles;
  for (const auto& [role, expected] : entries_) {
    if (constant_time_equal(token, expected)) roles.insert(role);
  }
  return roles;
}

std::optional<Response> AuthPolicy::check(const Request& request, std::optional<Role> required,
                                          bool loopback_client) const {
  if (!tokens_) {
    if (loopback_client) return std::nullopt;
    return error_response(http::status::forbidden,
                          "this coordinator runs without --token-file and serves only loopback "
                          "clients");
  }
  if (!required) return std::nullopt;
  const auto header = request.find(http::field::authorization);
  constexpr std::string_view kBearer = "Bearer ";
  const std::string value = header == request.end() ? std::string() : std::string(header->value());
  if (!value.starts_with(kBearer)) {
    return error_response(
        http::status::unauthorized,
        fmt::format("this needs a {} token: Authorization: Bearer TOKEN", to_string(*required)));
  }
  const std::string token = value.substr(kBearer.size());
  const std::set<Role> roles = tokens_->roles_of(token);
  if (roles.empty()) return error_response(http::status::unauthorized, "unknown token");
  if (!roles.contains(*required)) {
    return error_response(http::status::forbidden,
                          fmt::format("this needs the {} role", to_string(*required)));
  }
  return std::nullopt;
}

}  // namespace lowbit::coordinator::http_api
