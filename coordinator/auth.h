#pragma once
// Who may change what (docs/coordinator.md "Auth"). With a token file (lines
// `ROLE TOKEN`, roles `submit` and `worker`), every mutation needs a token of its role in
// `Authorization: Bearer TOKEN`: none or an unknown one is 401, a known token of another role 403.
// Reads stay open. Without a token file anyone who can connect could mutate, so only loopback
// clients are served at all.

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "coordinator/http_types.h"

namespace lowbit::coordinator::http_api {

enum class Role { kSubmit, kWorker };

std::string to_string(Role role);

class TokenTable {
 public:
  // Throws std::runtime_error naming the file and line for an unreadable file, an unknown role,
  // a line without exactly two words, or a file without any token.
  static TokenTable load(const std::string& path);
  static TokenTable from_text(const std::string& text, const std::string& origin);

  // The roles of `token`. Every entry is compared, each in time independent of where the
  // bytes differ, so timing tells an attacker nothing about how close a guess was.
  std::set<Role> roles_of(const std::string& token) const;

 private:
  std::vector<std::pair<Role, std::string>> entries_;
};

bool constant_time_equal(const std::string& a, const std::string& b);

class AuthPolicy {
 public:
  AuthPolicy() = default;  // no token file: loopback clients only
  explicit AuthPolicy(TokenTable tokens) : tokens_(std::move(tokens)) {}

  bool has_tokens() const { return tokens_.has_value(); }

  // nullopt when the request may proceed; otherwise the error to answer with.
  // `required`: the role a mutation needs; nullopt for reads.
  std::optional<Response> check(const Request& request, std::optional<Role> required,
                                bool loopback_client) const;

 private:
  std::optional<TokenTable> tokens_;
};

}  // namespace lowbit::coordinator::http_api
