// realm/realm_config.hpp — how one realm behaves. Filled from command-line flags today and from
// the config file later; every option has the default a production router would pick.
#pragma once

#include <string>

#include "realm/uri.hpp"

namespace junction {

struct realm_config {
  std::string name;
  // How strictly procedure/topic URIs are checked (Crossbar `uri_check`, Nexus `strict_uri`).
  uri_policy uri_check = uri_policy::loose;
  // Seed for the realm's random publication ids; 0 draws one from std::random_device.
  unsigned long long random_seed = 0;
};

}  // namespace junction
