// router/ops/config_file.hpp — the config file (`junction --config FILE`): JSON into
// router_config, with every problem named by its JSON pointer; and, from the same description
// (router/ops/config_reader.hpp), the JSON Schema, the key reference of docs/CONFIG.md and the
// effective settings as JSON.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "router/ops/config.hpp"
#include "router/ops/config_reader.hpp"

namespace junction::config {

struct loaded {
  router_config settings;
  std::vector<problem> problems;  // empty: the file is good
  [[nodiscard]] bool ok() const noexcept { return problems.empty(); }
};

// Parses and checks JSON text; what the text leaves out keeps its default. A text that is not
// JSON is one problem whose message starts with "line L, column C".
[[nodiscard]] loaded load_text(std::string_view text);
// Reads and loads a file (a file that cannot be read is one problem).
[[nodiscard]] loaded load_file(const std::string& path);

// "FILE: /realms/1/max_retained_events: expected an unsigned integer, got "ten"" — one line per
// problem, as Junction prints them when it refuses a file.
[[nodiscard]] std::string format_problems(const std::string& file, const std::vector<problem>& problems);

// The JSON Schema of the file (config/junction.schema.json is this, checked by a test).
[[nodiscard]] std::string schema_json();
// The key reference as a Markdown table (docs/CONFIG.md holds it between markers).
[[nodiscard]] std::string reference_markdown();
// The settings as a config file would say them (`junction --print-config`).
[[nodiscard]] std::string to_json(const router_config& settings);
// A realm's auth section as the file would say it, on one line (reload diffs, mock keys).
[[nodiscard]] std::string realm_auth_json(const auth::realm_auth& auth);
// A realm's roles and authorization settings, on one line (reload diffs).
[[nodiscard]] std::string realm_authorization_json(const auth::realm_authorization& a);
// One listener's settings as /listeners/* would say them, on one line (reload diffs, logs).
[[nodiscard]] std::string listener_json(const listener_config& listener);

// Checks across keys that the walk cannot see (also applied after flags): duplicate realms and
// listeners, and what a listener's kind allows.
void check_settings(const router_config& settings, std::vector<problem>& problems);

}  // namespace junction::config
