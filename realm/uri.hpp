// realm/uri.hpp — WAMP URI validation (spec basic/building_blocks §URIs; reference §1.5).
#pragma once

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

// Application URIs must not use the reserved first component "wamp".
[[nodiscard]] bool is_reserved_uri(std::string_view uri) noexcept;

}  // namespace junction
