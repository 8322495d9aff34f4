// Fuzz target: the config file loader (router/ops/config_file.hpp: load_text), and, for a text it
// accepts, the effective settings written back (--print-config) and loaded again unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "router/ops/config_file.hpp"
#include "router/ops/log.hpp"

namespace config = junction::config;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    junction::set_log_level(junction::log_level::off);  // warnings about clear secrets etc.
    return true;
  }();
  (void)quiet;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const config::loaded l = config::load_text(text);
  if (!l.ok()) {
    if (config::format_problems("fuzz", l.problems).empty()) std::abort();
    return 0;
  }
  const std::string printed = config::to_json(l.settings);
  const config::loaded again = config::load_text(printed);
  if (!again.ok()) {  // what --print-config writes must be a file Junction accepts
    std::fprintf(stderr, "printed config refused:\n%s\n%s\n", printed.c_str(),
                 config::format_problems("printed", again.problems).c_str());
    std::abort();
  }
  const std::string reprinted = config::to_json(again.settings);
  if (reprinted != printed) {
    std::fprintf(stderr, "printed config changed on reload:\n%s\n---\n%s\n", printed.c_str(), reprinted.c_str());
    std::abort();
  }
  return 0;
}
