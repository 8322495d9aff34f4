#include "realm/features.hpp"

#include <string_view>

namespace junction {

namespace {

constexpr const char* keys[] = {
    "progressive_call_results",      "progressive_call_invocations", "call_timeout",
    "call_canceling",                "caller_identification",        "pattern_based_registration",
    "shared_registration",           "registration_revocation",      "publisher_identification",
    "publisher_exclusion",           "subscriber_blackwhite_listing", "pattern_based_subscription",
    "subscription_revocation",       "event_retention",
    "session_meta_api",              "registration_meta_api",        "subscription_meta_api",
    "testament_meta_api",
};
static_assert(std::size(keys) == static_cast<std::size_t>(feature::count_),
              "one key per feature");

constexpr std::pair<std::string_view, client_role> role_names[] = {
    {"caller", client_role::caller},
    {"callee", client_role::callee},
    {"publisher", client_role::publisher},
    {"subscriber", client_role::subscriber},
};

// What the router implements, per router role. A feature is listed here only once it works
// end to end and is covered by conformance tests (issues 4 and 5: "announce each once it works").
constexpr feature dealer_features[] = {
    feature::progressive_call_results, feature::progressive_call_invocations,
    feature::call_timeout,             feature::call_canceling,
    feature::caller_identification,    feature::pattern_based_registration,
    feature::shared_registration,      feature::registration_revocation,
    feature::session_meta_api,         feature::registration_meta_api,
    feature::testament_meta_api,
};

constexpr feature broker_features[] = {
    feature::publisher_exclusion,           feature::publisher_identification,
    feature::subscriber_blackwhite_listing, feature::pattern_based_subscription,
    feature::event_retention,               feature::subscription_revocation,
    feature::session_meta_api,              feature::subscription_meta_api,
};

value announce(const feature* first, const feature* last) {
  object features;
  for (const feature* f = first; f != last; ++f) features.push_back(feature_key(*f), value(true));
  return value(object{{"features", value(std::move(features))}});
}

}  // namespace

const char* feature_key(feature f) noexcept { return keys[static_cast<std::size_t>(f)]; }

client_features client_features::from_roles(const object& roles) {
  client_features out;
  for (const auto& [name, details] : roles) {
    for (const auto& [role_name, role] : role_names) {
      if (name != role_name) continue;
      out.set_role(role);
      if (!details.is_object()) break;
      const value* features = details.as_object().find("features");
      if (features == nullptr || !features->is_object()) break;
      for (const auto& [key, enabled] : features->as_object()) {
        if (!enabled.is_bool() || !enabled.as_bool()) continue;
        for (std::size_t f = 0; f < std::size(keys); ++f)
          if (key == keys[f]) out.set(role, static_cast<feature>(f));
      }
      break;
    }
  }
  return out;
}

const value& router_roles() {
  static const value roles(object{
      {"broker", announce(std::begin(broker_features), std::end(broker_features))},
      {"dealer", announce(std::begin(dealer_features), std::end(dealer_features))},
  });
  return roles;
}

}  // namespace junction
