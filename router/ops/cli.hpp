// router/ops/cli.hpp — command-line flags and the config file → router_config. The file (if
// any) is read first; flags override its values (docs/CONFIG.md, "Flags and the file").
#pragma once

#include <string>
#include <vector>

#include "router/ops/config.hpp"

namespace junction {

struct cli_result {
  enum class action { run, check_config, print_config, print_schema, config_reference, make_secret };
  router_config config;
  action what = action::run;
  bool show_help = false;
  bool show_version = false;
  std::string config_file;         // --config / --check-config; empty: the embedded default
  std::vector<std::string> flags;  // the options that override the file, kept for reloads
  std::string secret_method;       // --make-secret METHOD
  std::string secret_kdf;          // --kdf KDF (with --make-secret)
  std::string error;  // non-empty: refuse to start (exit 2), print this (one line per problem)
};

cli_result parse_command_line(const std::vector<std::string>& args);

// The settings of `file` (empty: the embedded default) with `flags` applied; an empty string, or
// what is wrong (one line per problem). `out` is changed only on success.
std::string load_settings(const std::string& file, const std::vector<std::string>& flags,
                          router_config& out);

// Applies override flags (no --config) to `config`; an empty string or what is wrong.
std::string apply_flags(const std::vector<std::string>& args, router_config& config);

extern const char* const usage_text;

}  // namespace junction
