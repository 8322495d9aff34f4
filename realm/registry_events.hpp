// realm/registry_events.hpp — what the dealer and broker tell the meta API about their
// registries (spec advanced/meta_api_registrations, meta_api_subscriptions; reference §2.21,
// §2.22). The dealer/broker call these after the change is made, in the spec's order:
// created → added for the first member; removed → deleted for the last one. The meta API turns
// them into wamp.registration.on_* / wamp.subscription.on_* events; a realm without a listener
// passes nullptr.
#pragma once

#include "serializers/message.hpp"

namespace junction {

enum class registry_kind { registration, subscription };

class registry_events {
 public:
  virtual ~registry_events() = default;
  virtual void on_create(registry_kind kind, id session, id entry) = 0;
  virtual void on_add(registry_kind kind, id session, id entry) = 0;     // on_register / on_subscribe
  virtual void on_remove(registry_kind kind, id session, id entry) = 0;  // on_unregister / on_unsubscribe
  virtual void on_delete(registry_kind kind, id session, id entry) = 0;
};

}  // namespace junction
