// router/ops/cli.hpp — command-line flags → router_config.
#pragma once

#include <string>
#include <vector>

#include "router/ops/config.hpp"

namespace junction {

struct cli_result {
  router_config config;
  bool show_help = false;
  bool show_version = false;
  std::string error;  // non-empty: refuse to start, print this
};

cli_result parse_command_line(const std::vector<std::string>& args);
extern const char* const usage_text;

}  // namespace junction
