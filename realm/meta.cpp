#include "realm/meta.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "realm/realm.hpp"
#include "realm/replies.hpp"

namespace junction {

// A meta procedure's outcome: the RESULT's payload, or an ERROR.
struct meta_api::reply {
  array args;
  object kwargs;
  std::optional<errc> error;
  std::string text;

  static reply ok(array a = {}, object k = {}) { return reply{std::move(a), std::move(k), {}, {}}; }
  static reply fail(errc e, std::string t) { return reply{{}, {}, e, std::move(t)}; }
};

namespace {

using reply_fn = meta_api::reply (meta_api::*)(session_record&, call&);

// Positional argument i as an id / string / list of strings; nullopt if absent or mistyped.
std::optional<id> arg_id(const call& m, std::size_t i) {
  std::uint64_t v = 0;
  if (i >= m.args.size() || !m.args[i].as_uint(v) || v == 0 || v > max_id) return std::nullopt;
  return v;
}

const std::string* arg_string(const call& m, std::size_t i) {
  if (i >= m.args.size() || !m.args[i].is_string()) return nullptr;
  return &m.args[i].as_string();
}

// The optional filter_authroles|list[string] of wamp.session.count/list. False if mistyped.
bool authrole_filter(const call& m, std::vector<std::string>& out) {
  if (m.args.empty() || m.args[0].is_null()) return true;
  if (!m.args[0].is_array()) return false;
  for (const value& v : m.args[0].as_array()) {
    if (!v.is_string()) return false;
    out.push_back(v.as_string());
  }
  return true;
}

bool role_passes(const std::vector<std::string>& filter, const std::string& authrole) {
  return filter.empty() || std::find(filter.begin(), filter.end(), authrole) != filter.end();
}

object session_details(const session_info& info) {
  object details{{"session", value(info.session)},     {"authid", value(info.authid)},
                 {"authrole", value(info.authrole)},   {"authmethod", value(info.authmethod)},
                 {"authprovider", value(info.authprovider)}};
  if (!info.authextra.empty()) details.push_back("authextra", value(info.authextra));
  if (!info.transport.type.empty()) {
    details.push_back("transport", value(object{{"type", value(info.transport.type)},
                                                {"protocol", value(info.transport.protocol)},
                                                {"peer", value(info.transport.peer)}}));
  }
  return details;
}

object registration_details(const dealer::registration& reg) {
  return object{{"id", value(reg.registration_id)},
                {"created", value(iso8601(reg.created))},
                {"uri", value(reg.procedure)},
                {"match", value(std::string(to_string(reg.match)))},
                {"invoke", value(std::string(to_string(reg.invoke)))}};
}

object subscription_details(const broker::subscription& sub) {
  return object{{"id", value(sub.subscription_id)},
                {"created", value(iso8601(sub.created))},
                {"uri", value(sub.topic)},
                {"match", value(std::string(to_string(sub.match)))}};
}

// {exact: [ids], prefix: [ids], wildcard: [ids]} for wamp.registration.list / subscription.list.
struct by_policy {
  array exact, prefix, wildcard;
  void add(match_policy p, id entry) {
    (p == match_policy::exact ? exact : p == match_policy::prefix ? prefix : wildcard)
        .emplace_back(entry);
  }
  value to_value() {
    return value(object{{"exact", value(std::move(exact))},
                        {"prefix", value(std::move(prefix))},
                        {"wildcard", value(std::move(wildcard))}});
  }
};

// lookup's optional second argument: {match: "exact"|"prefix"|"wildcard"}.
std::optional<match_policy> lookup_policy(const call& m) {
  if (m.args.size() < 2 || m.args[1].is_null()) return match_policy::exact;
  if (!m.args[1].is_object()) return std::nullopt;
  const std::string* match = m.args[1].as_object().get_string("match");
  if (match == nullptr) return m.args[1].as_object().contains("match")
                                   ? std::nullopt
                                   : std::optional<match_policy>(match_policy::exact);
  return parse_match_policy(*match);
}

}  // namespace

std::string iso8601(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

bool meta_api::answer(session_record& caller, junction::call& m) {
  static const std::unordered_map<std::string_view, reply_fn> procedures = {
      {"wamp.session.count", &meta_api::session_count},
      {"wamp.session.list", &meta_api::session_list},
      {"wamp.session.get", &meta_api::session_get},
      {"wamp.session.kill", &meta_api::session_kill},
      {"wamp.session.kill_by_authid", &meta_api::session_kill_by_authid},
      {"wamp.session.kill_by_authrole", &meta_api::session_kill_by_authrole},
      {"wamp.session.kill_all", &meta_api::session_kill_all},
      {"wamp.session.add_testament", &meta_api::add_testament},
      {"wamp.session.flush_testaments", &meta_api::flush_testaments},
      {"wamp.registration.list", &meta_api::registration_list},
      {"wamp.registration.lookup", &meta_api::registration_lookup},
      {"wamp.registration.match", &meta_api::registration_match},
      {"wamp.registration.get", &meta_api::registration_get},
      {"wamp.registration.list_callees", &meta_api::registration_list_callees},
      {"wamp.registration.count_callees", &meta_api::registration_count_callees},
      {"wamp.registration.remove_callee", &meta_api::registration_remove_callee},
      {"wamp.subscription.list", &meta_api::subscription_list},
      {"wamp.subscription.lookup", &meta_api::subscription_lookup},
      {"wamp.subscription.match", &meta_api::subscription_match},
      {"wamp.subscription.get", &meta_api::subscription_get},
      {"wamp.subscription.list_subscribers", &meta_api::subscription_list_subscribers},
      {"wamp.subscription.count_subscribers", &meta_api::subscription_count_subscribers},
      {"wamp.subscription.remove_subscriber", &meta_api::subscription_remove_subscriber},
  };
  auto it = procedures.find(m.procedure);
  if (it == procedures.end()) return false;
  // The caller's link outlives a kill of other sessions; a caller never kills itself.
  std::shared_ptr<peer> link = caller.link;
  const id request = m.request;
  reply r = (this->*(it->second))(caller, m);
  if (r.error)
    link->send(make_error(message_type::call, request, *r.error, std::move(r.text)));
  else
    link->send(result_{request, {}, std::move(r.args), std::move(r.kwargs)});
  return true;
}

void meta_api::publish(std::string topic, array args, object kwargs, const object& options) {
  realm_.publish_event(std::move(topic), std::move(args), std::move(kwargs), options);
}

// --- sessions --------------------------------------------------------------------------------

void meta_api::on_join(const session_info& info) {
  publish("wamp.session.on_join", array{value(session_details(info))});
}

void meta_api::on_leave(const session_info& info) {
  auto it = testaments_.find(info.session);
  if (it != testaments_.end()) {
    std::vector<testament> list = std::move(it->second);
    testaments_.erase(it);
    // Without session resumption a session is detached and destroyed at once: the detached
    // scope first, then the destroyed one, each in the order added (spec: Testament).
    for (bool detached : {true, false})
      for (testament& t : list)
        if (t.detached == detached)
          publish(std::move(t.topic), std::move(t.args), std::move(t.kwargs), t.options);
  }
  publish("wamp.session.on_leave",
          array{value(info.session), value(info.authid), value(info.authrole)});
}

meta_api::reply meta_api::session_count(session_record&, junction::call& m) {
  std::vector<std::string> filter;
  if (!authrole_filter(m, filter))
    return reply::fail(errc::invalid_argument, "filter_authroles must be a list of strings");
  std::uint64_t n = 0;
  for (const auto& [session, record] : realm_.sessions())
    if (role_passes(filter, record.info->authrole)) ++n;
  return reply::ok(array{value(n)});
}

meta_api::reply meta_api::session_list(session_record&, junction::call& m) {
  std::vector<std::string> filter;
  if (!authrole_filter(m, filter))
    return reply::fail(errc::invalid_argument, "filter_authroles must be a list of strings");
  array ids;
  for (const auto& [session, record] : realm_.sessions())
    if (role_passes(filter, record.info->authrole)) ids.emplace_back(session);
  return reply::ok(array{value(std::move(ids))});
}

meta_api::reply meta_api::session_get(session_record&, junction::call& m) {
  const auto target = arg_id(m, 0);
  if (!target) return reply::fail(errc::invalid_argument, "wamp.session.get takes a session id");
  auto it = realm_.sessions().find(*target);
  if (it == realm_.sessions().end())
    return reply::fail(errc::no_such_session, "no session " + std::to_string(*target));
  return reply::ok(array{value(session_details(*it->second.info))});
}

namespace {

// kw `reason` (a URI, default wamp.close.killed) and `message` of the kill procedures.
std::optional<std::string> kill_reason(const junction::call& m, uri_policy policy) {
  const value* reason = m.kwargs.find("reason");
  if (reason == nullptr || reason->is_null()) return std::string(uri_of(errc::session_killed));
  if (!reason->is_string() || !is_valid_uri(reason->as_string(), policy)) return std::nullopt;
  return reason->as_string();
}

std::string kill_message(const junction::call& m) {
  const std::string* message = m.kwargs.get_string("message");
  return message ? *message : std::string();
}

}  // namespace

template <class Pick>
std::vector<id> meta_api::kill_where(id caller, const std::string& reason,
                                     const std::string& message, Pick pick) {
  std::vector<id> victims;
  for (const auto& [session, record] : realm_.sessions())
    if (session != caller && pick(*record.info)) victims.push_back(session);
  for (id v : victims) realm_.kill(v, reason, message);
  return victims;
}

meta_api::reply meta_api::session_kill(session_record& caller, junction::call& m) {
  const auto target = arg_id(m, 0);
  if (!target) return reply::fail(errc::invalid_argument, "wamp.session.kill takes a session id");
  const auto reason = kill_reason(m, realm_.config().uri_check);
  if (!reason) return reply::fail(errc::invalid_uri, "kill reason must be a URI");
  // The spec answers no_such_session for the caller's own id too: use GOODBYE to leave.
  if (*target == caller.info->session || realm_.sessions().count(*target) == 0)
    return reply::fail(errc::no_such_session, "no session " + std::to_string(*target) +
                                                  " other than the caller's in this realm");
  realm_.kill(*target, *reason, kill_message(m));
  return reply::ok();
}

meta_api::reply meta_api::session_kill_by_authid(session_record& caller, junction::call& m) {
  const std::string* authid = arg_string(m, 0);
  if (authid == nullptr)
    return reply::fail(errc::invalid_argument, "wamp.session.kill_by_authid takes an authid");
  const auto reason = kill_reason(m, realm_.config().uri_check);
  if (!reason) return reply::fail(errc::invalid_uri, "kill reason must be a URI");
  array killed;
  for (id v : kill_where(caller.info->session, *reason, kill_message(m),
                         [&](const session_info& i) { return i.authid == *authid; }))
    killed.emplace_back(v);
  return reply::ok(array{value(std::move(killed))});
}

meta_api::reply meta_api::session_kill_by_authrole(session_record& caller, junction::call& m) {
  const std::string* authrole = arg_string(m, 0);
  if (authrole == nullptr)
    return reply::fail(errc::invalid_argument, "wamp.session.kill_by_authrole takes an authrole");
  const auto reason = kill_reason(m, realm_.config().uri_check);
  if (!reason) return reply::fail(errc::invalid_uri, "kill reason must be a URI");
  const auto killed = kill_where(caller.info->session, *reason, kill_message(m),
                                 [&](const session_info& i) { return i.authrole == *authrole; });
  return reply::ok(array{value(killed.size())});
}

meta_api::reply meta_api::session_kill_all(session_record& caller, junction::call& m) {
  const auto reason = kill_reason(m, realm_.config().uri_check);
  if (!reason) return reply::fail(errc::invalid_uri, "kill reason must be a URI");
  const auto killed =
      kill_where(caller.info->session, *reason, kill_message(m), [](const session_info&) { return true; });
  return reply::ok(array{value(killed.size())});
}

// --- testaments (spec advanced/pubsub_testament) ---------------------------------------------

meta_api::reply meta_api::add_testament(session_record& caller, junction::call& m) {
  const std::string* topic = arg_string(m, 0);
  if (topic == nullptr || m.args.size() > 3 || (m.args.size() > 1 && !m.args[1].is_array()) ||
      (m.args.size() > 2 && !m.args[2].is_object()))
    return reply::fail(errc::invalid_argument,
                       "wamp.session.add_testament takes (topic, args|list, kwargs|dict)");
  if (!is_valid_uri(*topic, realm_.config().uri_check) || is_reserved_uri(*topic))
    return reply::fail(errc::invalid_uri, "invalid testament topic '" + *topic + "'");
  const std::string* scope = m.kwargs.get_string("scope");
  if (m.kwargs.contains("scope") && (scope == nullptr || (*scope != "destroyed" && *scope != "detached")))
    return reply::fail(errc::invalid_argument, "testament scope must be \"destroyed\" or \"detached\"");
  object options;
  if (const value* o = m.kwargs.find("publish_options")) {
    if (!o->is_object())
      return reply::fail(errc::invalid_argument, "publish_options must be a dict");
    options = o->as_object();
    if (const char* problem = broker::options_problem(options))
      return reply::fail(errc::invalid_argument, std::string("publish_options: ") + problem);
  }
  auto& list = testaments_[caller.info->session];
  if (list.size() >= max_testaments)
    return reply::fail(errc::invalid_argument,
                       "a session may hold at most " + std::to_string(max_testaments) + " testaments");
  // Without session resumption a session is detached and destroyed at the same moment, so both
  // scopes are published when it ends (detached ones were added in order with the rest).
  list.push_back(testament{scope != nullptr && *scope == "detached", *topic, m.args.size() > 1 ? m.args[1].as_array() : array{},
                           m.args.size() > 2 ? m.args[2].as_object() : object{},
                           std::move(options)});
  return reply::ok();
}

meta_api::reply meta_api::flush_testaments(session_record& caller, junction::call& m) {
  const std::string* scope = m.kwargs.get_string("scope");
  if (m.kwargs.contains("scope") && (scope == nullptr || (*scope != "destroyed" && *scope != "detached")))
    return reply::fail(errc::invalid_argument, "testament scope must be \"destroyed\" or \"detached\"");
  const bool detached = scope != nullptr && *scope == "detached";
  std::size_t n = 0;
  if (auto it = testaments_.find(caller.info->session); it != testaments_.end()) {
    auto& list = it->second;
    const auto before = list.size();
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const testament& t) { return t.detached == detached; }),
               list.end());
    n = before - list.size();
    if (list.empty()) testaments_.erase(it);
  }
  return reply::ok(array{value(n)});
}

// --- registrations ---------------------------------------------------------------------------

void meta_api::on_create(registry_kind kind, id session, id entry) {
  if (kind == registry_kind::registration) {
    if (const auto* reg = realm_.get_dealer().find_registration(entry))
      publish("wamp.registration.on_create",
              array{value(session), value(registration_details(*reg))});
  } else if (const auto* sub = realm_.get_broker().find_subscription(entry)) {
    publish("wamp.subscription.on_create", array{value(session), value(subscription_details(*sub))});
  }
}

void meta_api::on_add(registry_kind kind, id session, id entry) {
  publish(kind == registry_kind::registration ? "wamp.registration.on_register"
                                              : "wamp.subscription.on_subscribe",
          array{value(session), value(entry)});
}

void meta_api::on_remove(registry_kind kind, id session, id entry) {
  publish(kind == registry_kind::registration ? "wamp.registration.on_unregister"
                                              : "wamp.subscription.on_unsubscribe",
          array{value(session), value(entry)});
}

void meta_api::on_delete(registry_kind kind, id session, id entry) {
  publish(kind == registry_kind::registration ? "wamp.registration.on_delete"
                                              : "wamp.subscription.on_delete",
          array{value(session), value(entry)});
}

meta_api::reply meta_api::registration_list(session_record&, junction::call&) {
  by_policy ids;
  realm_.get_dealer().for_each_registration(
      [&](const dealer::registration& reg) { ids.add(reg.match, reg.registration_id); });
  return reply::ok(array{ids.to_value()});
}

meta_api::reply meta_api::registration_lookup(session_record&, junction::call& m) {
  const std::string* procedure = arg_string(m, 0);
  const auto policy = lookup_policy(m);
  if (procedure == nullptr || !policy)
    return reply::fail(errc::invalid_argument,
                       "wamp.registration.lookup takes (procedure, {match: policy})");
  const auto* reg = realm_.get_dealer().lookup(*procedure, *policy);
  return reply::ok(array{reg ? value(reg->registration_id) : value()});
}

meta_api::reply meta_api::registration_match(session_record&, junction::call& m) {
  const std::string* procedure = arg_string(m, 0);
  if (procedure == nullptr)
    return reply::fail(errc::invalid_argument, "wamp.registration.match takes a procedure URI");
  const auto* reg = realm_.get_dealer().match(*procedure);
  return reply::ok(array{reg ? value(reg->registration_id) : value()});
}

namespace {

// The registration / subscription named by Arguments[0], or nullptr.
const dealer::registration* registration_arg(realm& r, const junction::call& m) {
  const auto entry = arg_id(m, 0);
  return entry ? r.get_dealer().find_registration(*entry) : nullptr;
}

const broker::subscription* subscription_arg(realm& r, const junction::call& m) {
  const auto entry = arg_id(m, 0);
  return entry ? r.get_broker().find_subscription(*entry) : nullptr;
}

}  // namespace

meta_api::reply meta_api::registration_get(session_record&, junction::call& m) {
  const auto* reg = registration_arg(realm_, m);
  if (reg == nullptr) return reply::fail(errc::no_such_registration, "no such registration");
  return reply::ok(array{value(registration_details(*reg))});
}

meta_api::reply meta_api::registration_list_callees(session_record&, junction::call& m) {
  const auto* reg = registration_arg(realm_, m);
  if (reg == nullptr) return reply::fail(errc::no_such_registration, "no such registration");
  array ids;
  for (const auto& c : reg->callees) ids.emplace_back(c.session);
  return reply::ok(array{value(std::move(ids))});
}

meta_api::reply meta_api::registration_count_callees(session_record&, junction::call& m) {
  const auto* reg = registration_arg(realm_, m);
  if (reg == nullptr) return reply::fail(errc::no_such_registration, "no such registration");
  return reply::ok(array{value(reg->callees.size())});
}

// wamp.registration.remove_callee(registration, callee; reason) — Crossbar's admin procedure,
// which triggers registration revocation toward the callee.
meta_api::reply meta_api::registration_remove_callee(session_record&, junction::call& m) {
  const auto registration = arg_id(m, 0);
  const auto callee = arg_id(m, 1);
  if (!registration || !callee)
    return reply::fail(errc::invalid_argument,
                       "wamp.registration.remove_callee takes (registration, callee)");
  const std::string* reason = m.kwargs.get_string("reason");
  if (!realm_.get_dealer().revoke(*registration, *callee, reason ? *reason : std::string()))
    return reply::fail(errc::no_such_registration, "session " + std::to_string(*callee) +
                                                       " is not a callee of registration " +
                                                       std::to_string(*registration));
  return reply::ok();
}

// --- subscriptions ---------------------------------------------------------------------------

meta_api::reply meta_api::subscription_list(session_record&, junction::call&) {
  by_policy ids;
  realm_.get_broker().for_each_subscription(
      [&](const broker::subscription& sub) { ids.add(sub.match, sub.subscription_id); });
  return reply::ok(array{ids.to_value()});
}

meta_api::reply meta_api::subscription_lookup(session_record&, junction::call& m) {
  const std::string* topic = arg_string(m, 0);
  const auto policy = lookup_policy(m);
  if (topic == nullptr || !policy)
    return reply::fail(errc::invalid_argument,
                       "wamp.subscription.lookup takes (topic, {match: policy})");
  const auto* sub = realm_.get_broker().lookup(*topic, *policy);
  return reply::ok(array{sub ? value(sub->subscription_id) : value()});
}

meta_api::reply meta_api::subscription_match(session_record&, junction::call& m) {
  const std::string* topic = arg_string(m, 0);
  if (topic == nullptr)
    return reply::fail(errc::invalid_argument, "wamp.subscription.match takes a topic URI");
  array ids;
  realm_.get_broker().for_each_match(
      *topic, [&](const broker::subscription& sub) { ids.emplace_back(sub.subscription_id); });
  // The spec answers null when nothing matches.
  return reply::ok(array{ids.empty() ? value() : value(std::move(ids))});
}

meta_api::reply meta_api::subscription_get(session_record&, junction::call& m) {
  const auto* sub = subscription_arg(realm_, m);
  if (sub == nullptr) return reply::fail(errc::no_such_subscription, "no such subscription");
  return reply::ok(array{value(subscription_details(*sub))});
}

meta_api::reply meta_api::subscription_list_subscribers(session_record&, junction::call& m) {
  const auto* sub = subscription_arg(realm_, m);
  if (sub == nullptr) return reply::fail(errc::no_such_subscription, "no such subscription");
  array ids;
  for (id s : sub->subscribers) ids.emplace_back(s);
  return reply::ok(array{value(std::move(ids))});
}

meta_api::reply meta_api::subscription_count_subscribers(session_record&, junction::call& m) {
  const auto* sub = subscription_arg(realm_, m);
  if (sub == nullptr) return reply::fail(errc::no_such_subscription, "no such subscription");
  return reply::ok(array{value(sub->subscribers.size())});
}

// wamp.subscription.remove_subscriber(subscription, subscriber; reason) — triggers subscription
// revocation toward the subscriber.
meta_api::reply meta_api::subscription_remove_subscriber(session_record&, junction::call& m) {
  const auto subscription = arg_id(m, 0);
  const auto subscriber = arg_id(m, 1);
  if (!subscription || !subscriber)
    return reply::fail(errc::invalid_argument,
                       "wamp.subscription.remove_subscriber takes (subscription, subscriber)");
  const std::string* reason = m.kwargs.get_string("reason");
  if (!realm_.get_broker().revoke(*subscription, *subscriber, reason ? *reason : std::string()))
    return reply::fail(errc::no_such_subscription, "session " + std::to_string(*subscriber) +
                                                       " is not a subscriber of subscription " +
                                                       std::to_string(*subscription));
  return reply::ok();
}

}  // namespace junction
