// Operations as plain objects: the log (JSON lines, fields, the rate limit), the metrics a realm
// counts and their exposition, reload diffs of the router's realms, and the shutdown drain.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "realm/realm.hpp"
#include "router/ops/log.hpp"
#include "router/ops/metrics.hpp"
#include "router/router.hpp"
#include "serializers/errors.hpp"
#include "support/fakes.hpp"

using namespace junction;
using test::fake_peer;

namespace {

std::vector<std::string>& captured() {
  static std::vector<std::string> lines;
  return lines;
}
void capture(const std::string& line) { captured().push_back(line); }

// Captures the log for the life of the object.
struct log_capture {
  log_capture(log_output format, unsigned burst = 5, unsigned window_ms = 10000) {
    captured().clear();
    set_log_sink(capture);
    set_log_output(format);
    set_log_rate_limit(burst, window_ms);
    set_log_level(log_level::debug);
  }
  ~log_capture() {
    set_log_sink(nullptr);
    set_log_output(log_output::text);
    set_log_rate_limit(5, 10000);
    set_log_level(log_level::info);
  }
};

session_info info_of(id session, const char* transport = "websocket") {
  session_info info;
  info.session = session;
  info.authid = "user" + std::to_string(session);
  info.authrole = "anonymous";
  info.authmethod = "anonymous";
  info.transport.type = transport;
  for (auto role : {client_role::caller, client_role::callee, client_role::publisher,
                    client_role::subscriber})
    info.features.set(role, feature::call_canceling);
  return info;
}

// The value of one sample in an exposition, or -1.
double sample(const std::string& text, const std::string& series) {
  const std::string key = "\n" + series + " ";
  const auto at = text.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + key.size()));
}

}  // namespace

TEST_CASE("log: text lines carry fields after the message") {
  const log_capture c(log_output::text);
  JLOG(info) << "session joined" << log_field("session", 42) << log_field("peer", "127.0.0.1:5000")
             << log_field("note", "two words");
  REQUIRE(captured().size() == 1);
  const std::string& line = captured()[0];
  CHECK(line.find(" info  session joined session=42 peer=127.0.0.1:5000 note=\"two words\"") !=
        std::string::npos);
}

TEST_CASE("log: JSON lines are one object with time, level, message and typed fields") {
  const log_capture c(log_output::json);
  JLOG(warn) << "a \"quoted\"\nmessage" << log_field("session", 7) << log_field("realm", "r\\1");
  REQUIRE(captured().size() == 1);
  rapidjson::Document d;
  d.Parse(captured()[0].c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["level"].GetString()) == "warn");
  CHECK(std::string(d["message"].GetString()) == "a \"quoted\"\nmessage");
  CHECK(d["session"].IsUint64());
  CHECK(d["session"].GetUint64() == 7);
  CHECK(std::string(d["realm"].GetString()) == "r\\1");
  CHECK(std::string(d["time"].GetString()).back() == 'Z');
}

TEST_CASE("log: repeated lines are rate-limited and the rest counted") {
  const log_capture c(log_output::text, 3, 50);
  for (int i = 0; i < 10; ++i) JLOG(info) << "protocol violation: same" << log_field("peer", i);
  JLOG(info) << "another message";
  CHECK(captured().size() == 4);  // 3 of the flood, then the other line
  for (int i = 0; i < 5; ++i) JLOG(debug) << "debug lines are not limited";
  CHECK(captured().size() == 9);
  // After the window, the summary of what was suppressed.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(60);
  while (std::chrono::steady_clock::now() < until) {
  }
  log_flush_suppressed();
  REQUIRE(captured().size() == 10);
  CHECK(captured().back().find("protocol violation: same (7 similar lines suppressed") != std::string::npos);
  CHECK(captured().back().find("suppressed=7") != std::string::npos);
  JLOG(info) << "protocol violation: same";  // a new window
  CHECK(captured().size() == 11);
}

TEST_CASE("metrics: a realm counts calls by outcome, refusals, durations, publications, events") {
  test::manual_timers timers;
  router_config config;
  config.realms = {realm_settings{"r"}};
  router rt(config, timers);
  realm& r = *rt.find_realm("r");
  auto callee = std::make_shared<fake_peer>();
  auto caller = std::make_shared<fake_peer>();
  r.join(info_of(1), callee);
  r.join(info_of(2, "rawsocket"), caller);
  CHECK_FALSE(r.handle(1, register_{1, {}, "com.p"}));
  callee->take<registered>();
  auto invoke = [&](id request, object options = {}) {
    CHECK_FALSE(r.handle(2, call{request, std::move(options), "com.p", {}, {}}));
    return callee->take<invocation>().request;
  };
  CHECK_FALSE(r.handle(1, yield{invoke(1), {}, {}, {}}));  // result
  error app;
  app.request_type = 68;
  app.request = invoke(2);
  app.error_uri = "com.example.oops";
  CHECK_FALSE(r.handle(1, std::move(app)));  // error
  error wamp;
  wamp.request_type = 68;
  wamp.request = invoke(3);
  wamp.error_uri = "wamp.error.runtime_error";
  CHECK_FALSE(r.handle(1, std::move(wamp)));  // wamp_error
  invoke(4, object{{"timeout", value(10)}});
  timers.advance(std::chrono::milliseconds(10));  // timeout
  CHECK(callee->take<interrupt>().request != 0);
  invoke(5);
  CHECK_FALSE(r.handle(2, cancel{5, {}}));  // canceled
  CHECK(callee->take<interrupt>().request != 0);
  invoke(6);                                // still in flight
  CHECK_FALSE(r.handle(2, call{7, {}, "com.missing", {}, {}}));  // refused
  CHECK_FALSE(r.handle(2, subscribe{8, {}, "com.t"}));
  CHECK_FALSE(r.handle(1, publish{9, {}, "com.t", {}, {}}));
  CHECK_FALSE(r.handle(1, publish{10, object{{"acknowledge", value(true)}}, "bad uri", {}, {}}));

  const realm_stats& s = r.stats();
  CHECK(s.calls_routed.get() == 6);
  CHECK(s.calls_refused.get() == 1);
  CHECK(s.calls_ended[static_cast<std::size_t>(call_outcome::result)].get() == 1);
  CHECK(s.calls_ended[static_cast<std::size_t>(call_outcome::error)].get() == 1);
  CHECK(s.calls_ended[static_cast<std::size_t>(call_outcome::wamp_error)].get() == 1);
  CHECK(s.calls_ended[static_cast<std::size_t>(call_outcome::timeout)].get() == 1);
  CHECK(s.calls_ended[static_cast<std::size_t>(call_outcome::canceled)].get() == 1);
  CHECK(s.call_duration.cumulative(duration_histogram::bounds.size()) == 5);
  CHECK(s.publications.get() == 1);
  CHECK(s.publications_refused.get() == 1);
  CHECK(s.events.get() == 1);

  const std::string text = metrics::render(rt, {{metrics::listener_kind::universal, 3, 100}},
                                           std::chrono::steady_clock::now());
  CHECK(sample(text, "junction_calls_total{realm=\"r\"}") == 6);
  CHECK(sample(text, "junction_calls_in_flight{realm=\"r\"}") == 1);
  CHECK(sample(text, "junction_calls_ended_total{realm=\"r\",outcome=\"timeout\"}") == 1);
  CHECK(sample(text, "junction_call_duration_seconds_count{realm=\"r\"}") == 5);
  CHECK(sample(text, "junction_call_duration_seconds_bucket{realm=\"r\",le=\"+Inf\"}") == 5);
  CHECK(sample(text, "junction_sessions{realm=\"r\",transport=\"rawsocket\"}") == 1);
  CHECK(sample(text, "junction_sessions{realm=\"r\",transport=\"websocket\"}") == 1);
  CHECK(sample(text, "junction_registrations{realm=\"r\"}") == 1);
  CHECK(sample(text, "junction_subscriptions{realm=\"r\"}") == 1);
  CHECK(sample(text, "junction_connections_open{listener=\"universal\"}") == 3);
  CHECK(sample(text, "junction_outbound_queue_bytes{listener=\"universal\"}") == 100);
  CHECK(text.find("# TYPE junction_call_duration_seconds histogram") != std::string::npos);
  // Closed label sets only: no URI, session id or peer address appears.
  CHECK(text.find("com.p") == std::string::npos);
  CHECK(text.find("com.t") == std::string::npos);
}

TEST_CASE("reload: the router's realms follow the new settings") {
  test::manual_timers timers;
  router_config config;
  config.realms = {realm_settings{"keep"}, realm_settings{"gone"}};
  router rt(config, timers);
  auto in_gone = std::make_shared<fake_peer>();
  auto in_keep = std::make_shared<fake_peer>();
  rt.find_realm("gone")->join(info_of(1), in_gone);
  rt.find_realm("keep")->join(info_of(2), in_keep);

  router_config next = config;
  next.realms = {realm_settings{"keep"}, realm_settings{"new"}};
  next.realms[0].uri_check = uri_policy::strict;
  next.realms[0].max_retained_events = 1;
  const auto changes = rt.apply(next);
  REQUIRE(changes.size() == 3);
  CHECK(changes[0] == "realm gone removed (1 sessions closed)");
  CHECK(changes[1] == "realm keep: uri_check loose → strict, max_retained_events 10000 → 1");
  CHECK(changes[2] == "realm new added");
  CHECK(rt.find_realm("gone") == nullptr);
  REQUIRE(rt.find_realm("new") != nullptr);
  CHECK(rt.find_realm("keep")->config().uri_check == uri_policy::strict);
  // The removed realm's session was told GOODBYE close_realm; the other heard nothing.
  CHECK(in_gone->killed);
  CHECK(in_gone->last<goodbye>().reason == uri_of(errc::close_realm));
  CHECK(in_keep->inbox.empty());
  CHECK(rt.apply(next).empty());  // nothing changed
}

TEST_CASE("reload: fewer retained events evicts the topics published least recently") {
  test::manual_timers timers;
  realm r{realm_config{"r"}, timers};
  auto p = std::make_shared<fake_peer>();
  r.join(info_of(1), p);
  for (int i = 0; i < 5; ++i)
    CHECK_FALSE(r.handle(1, publish{static_cast<id>(i + 1), object{{"retain", value(true)}},
                                    "com.t" + std::to_string(i), {}, {}}));
  CHECK(r.get_broker().retained_count() == 5);
  realm_config smaller{"r"};
  smaller.max_retained_events = 2;
  r.reconfigure(smaller);
  CHECK(r.get_broker().retained_count() == 2);
  CHECK(r.name() == "r");
}

TEST_CASE("shutdown: draining refuses new calls, lets calls in flight finish, then ends the rest") {
  test::manual_timers timers;
  router_config config;
  config.realms = {realm_settings{"r"}};
  router rt(config, timers);
  realm& r = *rt.find_realm("r");
  auto callee = std::make_shared<fake_peer>();
  auto caller = std::make_shared<fake_peer>();
  r.join(info_of(1), callee);
  r.join(info_of(2), caller);
  CHECK_FALSE(r.handle(1, register_{1, {}, "com.p"}));
  callee->take<registered>();
  CHECK_FALSE(r.handle(2, call{1, {}, "com.p", {}, {}}));
  const id first = callee->take<invocation>().request;
  CHECK_FALSE(r.handle(2, call{2, {}, "com.p", {}, {}}));
  callee->take<invocation>();
  rt.drain();
  CHECK(rt.draining());
  CHECK_FALSE(r.handle(2, call{3, {}, "com.p", {}, {}}));  // refused
  auto refused = caller->take<error>();
  CHECK(refused.request == 3);
  CHECK(refused.error_uri == uri_of(errc::canceled));
  CHECK(callee->inbox.empty());
  CHECK(rt.calls_in_flight() == 2);
  CHECK_FALSE(r.handle(1, yield{first, {}, {value("done")}, {}}));  // in flight: finishes
  CHECK(caller->take<result_>().request == 1);
  rt.end_calls("the router shut down before the call ended");
  const auto ended = caller->take<error>();
  CHECK(ended.request == 2);
  CHECK(ended.error_uri == uri_of(errc::canceled));
  CHECK(ended.args == array{value("the router shut down before the call ended")});
  CHECK(callee->take<interrupt>().options.find("mode")->as_string() == "killnowait");
  CHECK(rt.calls_in_flight() == 0);
}

TEST_CASE("reload: principals removed from the file lose their sessions when the realm says so") {
  test::manual_timers timers;
  router_config config;
  config.realms = {realm_settings{"r"}};
  auth::realm_auth& a = config.realms[0].auth;
  a.configured = true;
  a.ticket.emplace();
  a.ticket->principals["joe"] = auth::ticket_principal{"user", "", "t1"};
  a.ticket->principals["ann"] = auth::ticket_principal{"user", "", "t2"};
  router rt(config, timers);
  auto joe = std::make_shared<fake_peer>();
  auto ann = std::make_shared<fake_peer>();
  auto anon = std::make_shared<fake_peer>();
  auto as = [](id s, const char* authid, const char* method) {
    session_info i = info_of(s);
    i.authid = authid;
    i.authmethod = method;
    i.authprovider = "static";
    return i;
  };
  rt.find_realm("r")->join(as(1, "joe", "ticket"), joe);
  rt.find_realm("r")->join(as(2, "ann", "ticket"), ann);
  rt.find_realm("r")->join(as(3, "ZZZZ-ZZZZ", "anonymous"), anon);

  router_config next = config;
  next.realms[0].auth.ticket->principals.erase("joe");
  SUBCASE("kept by default: only new sessions see the change") {
    const auto changes = rt.apply(next);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0] == "realm r: authentication settings changed (for new sessions)");
    CHECK_FALSE(joe->killed);
    CHECK(rt.auth_of("r")->ticket->principals.count("joe") == 0);
  }
  SUBCASE("killed with kill_removed_principals") {
    next.realms[0].auth.kill_removed_principals = true;
    const auto changes = rt.apply(next);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0] == "realm r: authentication settings changed (for new sessions); 1 sessions of removed "
                        "principals killed");
    CHECK(joe->killed);
    CHECK(joe->last<goodbye>().reason == uri_of(errc::session_killed));
    CHECK_FALSE(ann->killed);
    CHECK_FALSE(anon->killed);
    CHECK(rt.find_realm("r")->session_count() == 2);
  }
}
