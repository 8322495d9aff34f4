#include "realm/realm.hpp"

#include <vector>

#include "serializers/codec.hpp"  // materialize
#include "serializers/overloaded.hpp"

namespace junction {

realm::realm(realm_config config, timer_queue& timers)
    : config_(std::move(config)),
      ops_([this](id session) { leave_now(session); }),
      ids_(config_.random_seed),
      broker_(sessions_, config_, ids_, stats_),
      dealer_(sessions_, config_, timers, ops_, stats_),
      meta_(*this) {
  dealer_.set_events(&meta_);
  broker_.set_events(&meta_);
}

void realm::join(std::shared_ptr<const session_info> info, std::shared_ptr<peer> link) {
  const realm_operations::scope op(ops_);
  const id session = info->session;
  auto& record = sessions_[session];
  record = session_record{std::move(info), std::move(link)};
  meta_.on_join(*record.info);
}

void realm::leave(id session) { ops_.leave(session); }

void realm::leave_now(id session) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  // Keep the peer alive until cleanup is done: the dealer may still answer callers.
  auto link = std::move(it->second.link);
  const std::shared_ptr<const session_info> info = std::move(it->second.info);
  sessions_.erase(it);
  broker_.on_leave(session);
  dealer_.on_leave(session);
  meta_.on_leave(*info);
}

void realm::kill(id session, const std::string& reason, const std::string& message) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  const realm_operations::scope op(ops_);
  const std::shared_ptr<peer> link = it->second.link;
  leave_now(session);
  link->kill(reason, message);
}

void realm::reconfigure(realm_config config) {
  const realm_operations::scope op(ops_);
  config.name = config_.name;
  config.random_seed = config_.random_seed;
  config_ = std::move(config);
  broker_.trim_retained();
}

void realm::end_calls(const std::string& why) {
  const realm_operations::scope op(ops_);
  dealer_.cancel_all(why);
}

void realm::close(const std::string& reason, const std::string& message) {
  const realm_operations::scope op(ops_);
  std::vector<id> everyone;
  everyone.reserve(sessions_.size());
  for (const auto& [session, record] : sessions_) everyone.push_back(session);
  for (id session : everyone) kill(session, reason, message);
}

void realm::publish_event(std::string topic, array args, object kwargs, const object& options) {
  const realm_operations::scope op(ops_);
  broker_.publish_from_router(std::move(topic), std::move(args), std::move(kwargs), options);
}

std::optional<failure> realm::handle(id session, message&& m) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return failure{"session is not joined to realm " + config_.name};
  const realm_operations::scope op(ops_);
  // Valid to the end: no session leaves before the operation ends, except those it kills
  // (wamp.session.kill*), never the one it serves.
  session_record& s = it->second;
  return std::visit(
      overloaded{
          [&](publish& x) -> std::optional<failure> { broker_.on_publish(s, std::move(x)); return {}; },
          [&](subscribe& x) -> std::optional<failure> { broker_.on_subscribe(s, std::move(x)); return {}; },
          [&](unsubscribe& x) -> std::optional<failure> { broker_.on_unsubscribe(s, std::move(x)); return {}; },
          [&](call& x) -> std::optional<failure> {
            // Meta procedures are answered in-process (clients cannot register wamp.* URIs).
            // They read their arguments: a payload that passed through is decoded first.
            if (is_reserved_uri(x.procedure) && materialize(x) && meta_.answer(s, x)) return {};
            return dealer_.on_call(s, std::move(x));
          },
          [&](cancel& x) { return dealer_.on_cancel(s, std::move(x)); },
          [&](register_& x) -> std::optional<failure> { dealer_.on_register(s, std::move(x)); return {}; },
          [&](unregister& x) -> std::optional<failure> { dealer_.on_unregister(s, std::move(x)); return {}; },
          [&](yield& x) { return dealer_.on_yield(s, std::move(x)); },
          [&](error& x) { return dealer_.on_error(s, std::move(x)); },
          [&](auto& x) -> std::optional<failure> {
            return failure{std::string(traits_of(x.type).name) + " is not routed by a realm"};
          },
      },
      m);
}

}  // namespace junction
