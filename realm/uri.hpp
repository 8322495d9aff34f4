// realm/uri.hpp — WAMP URI validation (spec basic/building_blocks §URIs; reference §1.5) and
// the match policies of pattern-based registrations and subscriptions (reference §2.8, §2.9).
#pragma once

#include <optional>
#include <string_view>

namespace junction {

// loose: components must not be empty nor contain '.', '#' or whitespace.
// strict: components are [0-9a-z_]+ (the spec's SHOULD).
enum class uri_policy { loose, strict };

// Which components may be empty: none (plain URIs), the last one (prefix patterns such as
// "com.app."), or any (wildcard patterns such as "com..update").
enum class uri_form { plain, prefix, wildcard };

[[nodiscard]] bool is_valid_uri(std::string_view uri, uri_policy policy,
                                uri_form form = uri_form::plain) noexcept;

// Whether `uri` matches the wildcard pattern (spec §2.8, §2.9): the same number of components,
// every non-empty pattern component equal to the URI's. One pattern against one URI; stored
// patterns are matched through uri_trie instead.
[[nodiscard]] bool wildcard_matches(std::string_view pattern, std::string_view uri) noexcept;

// Application URIs must not use the reserved first component "wamp".
[[nodiscard]] bool is_reserved_uri(std::string_view uri) noexcept;

// REGISTER/SUBSCRIBE.Options.match (spec advanced/rpc_pattern_based_registration,
// pubsub_pattern_based_subscription): "exact" is the default when the option is absent.
enum class match_policy { exact, prefix, wildcard };

// "exact" | "prefix" | "wildcard"; nullopt for anything else (the caller answers with an ERROR).
[[nodiscard]] std::optional<match_policy> parse_match_policy(std::string_view s) noexcept;
// The spelling on the wire (the inverse of parse_match_policy), for details and the meta API.
[[nodiscard]] std::string_view to_string(match_policy p) noexcept;

}  // namespace junction
