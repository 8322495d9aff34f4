#include "realm/uri.hpp"

namespace junction {
namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool valid_char(char c, uri_policy policy) noexcept {
  if (policy == uri_policy::strict)
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  return c != '#' && !is_space(c);
}

}  // namespace

bool is_valid_uri(std::string_view uri, uri_policy policy, uri_form form) noexcept {
  if (uri.empty()) return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = uri.find('.', start);
    const bool last = dot == std::string_view::npos;
    const std::string_view component = uri.substr(start, last ? std::string_view::npos : dot - start);
    if (component.empty()) {
      const bool allowed = form == uri_form::wildcard || (form == uri_form::prefix && last);
      if (!allowed) return false;
    }
    for (char c : component)
      if (!valid_char(c, policy)) return false;
    if (last) return true;
    start = dot + 1;
  }
}

bool is_reserved_uri(std::string_view uri) noexcept {
  return uri == "wamp" || uri.substr(0, 5) == "wamp.";
}

std::optional<match_policy> parse_match_policy(std::string_view s) noexcept {
  if (s == "exact") return match_policy::exact;
  if (s == "prefix") return match_policy::prefix;
  if (s == "wildcard") return match_policy::wildcard;
  return std::nullopt;
}

std::string_view to_string(match_policy p) noexcept {
  switch (p) {
    case match_policy::exact:
      return "exact";
    case match_policy::prefix:
      return "prefix";
    case match_policy::wildcard:
      return "wildcard";
  }
  return "exact";  // unreachable: every enumerator is handled above
}

bool wildcard_matches(std::string_view pattern, std::string_view uri) noexcept {
  for (;;) {
    const std::size_t pd = pattern.find('.');
    const std::size_t ud = uri.find('.');
    const std::string_view pc = pattern.substr(0, pd);
    if (!pc.empty() && pc != uri.substr(0, ud)) return false;
    if ((pd == std::string_view::npos) != (ud == std::string_view::npos)) return false;
    if (pd == std::string_view::npos) return true;
    pattern.remove_prefix(pd + 1);
    uri.remove_prefix(ud + 1);
  }
}

}  // namespace junction
