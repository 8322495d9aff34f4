// junction — the WAMP router executable: config file and flags → settings → server (router/server.hpp).
#include <openssl/crypto.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "router/ops/cli.hpp"
#include "router/ops/config_file.hpp"
#include "router/ops/make_secret.hpp"
#include "router/server.hpp"
#include "build_info.h"
#include "commit.h"

int main(int argc, char** argv) {
  using namespace junction;
  const cli_result cli = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (cli.show_help) {
    std::fputs(usage_text, stdout);
    return 0;
  }
  if (cli.show_version) {
    std::printf("junction %s\n", JUNCTION_VERSION);
    std::printf("commit %s\nbuild %s, %s%s%s, metrics %s\n%s\n", JUNCTION_COMMIT,
                JUNCTION_BUILD_TYPE, JUNCTION_BUILD_COMPILER,
                std::string(JUNCTION_BUILD_SANITIZE) == "none" ? "" : ", sanitize=",
                std::string(JUNCTION_BUILD_SANITIZE) == "none" ? "" : JUNCTION_BUILD_SANITIZE,
                JUNCTION_BUILD_METRICS ? "on" : "off", OpenSSL_version(OPENSSL_VERSION));
    return 0;
  }
  switch (cli.what) {
    case cli_result::action::make_secret: {
      if (!cli.error.empty()) break;
      std::string secret;
      if (cli.secret_method != "cryptosign") {
        std::getline(std::cin, secret);
        if (!secret.empty() && secret.back() == '\r') secret.pop_back();
        if (secret.empty()) {
          std::fprintf(stderr, "junction: --make-secret %s reads the secret from standard input\n",
                       cli.secret_method.c_str());
          return 2;
        }
      }
      std::fputs(make_secret(cli.secret_method, cli.secret_kdf, secret).c_str(), stdout);
      return 0;
    }
    case cli_result::action::print_schema:
      std::fputs(config::schema_json().c_str(), stdout);
      return 0;
    case cli_result::action::config_reference:
      std::fputs(config::reference_markdown().c_str(), stdout);
      return 0;
    default:
      break;
  }
  if (!cli.error.empty()) {
    // One line per problem, each naming where it is (a JSON pointer for the config file).
    std::string text = cli.error;
    if (!text.empty() && text.back() == '\n') text.pop_back();
    std::size_t start = 0;
    for (;;) {
      const std::size_t end = text.find('\n', start);
      std::fprintf(stderr, "junction: %s\n", text.substr(start, end - start).c_str());
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return 2;
  }
  if (cli.what == cli_result::action::check_config) {
    std::printf("%s: ok\n", cli.config_file.c_str());
    return 0;
  }
  if (cli.what == cli_result::action::print_config) {
    std::fputs(config::to_json(cli.config).c_str(), stdout);
    return 0;
  }
  return server(cli).run();
}
