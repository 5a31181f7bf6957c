// faultline: the command-line entry point. Parses global options, configures logging and runs one
// subcommand. Usage and input errors print one line ("faultline: <file:line>: <problem>") and
// exit 2.
#include <algorithm>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "harness/cli/commands.h"
#include "harness/core/error.h"
#include "harness/core/log.h"
#include "harness/core/redact.h"
#include "harness/core/rng.h"
#include "harness/core/text.h"

#ifndef FAULTLINE_VERSION
#define FAULTLINE_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  using namespace faultline;
  CLI::App app{"faultline: chaos and requirement tests for trading-system infrastructure"};
  app.name("faultline");
  app.set_version_flag("--version", std::string("faultline ") + FAULTLINE_VERSION);
  app.require_subcommand(1);
  auto& global = cli::mutable_global_options();
  std::string seed_text;
  app.add_option("--log-format", global.log_format, "human or json")
      ->check(CLI::IsMember({"human", "json"}));
  app.add_option("--log-level", global.log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_option(
      "--seed", seed_text,
      "the run seed (decimal or 0x hex); default $FAULTLINE_SEED, else drawn and printed");
  app.parse_complete_callback([&] {
    if (!seed_text.empty()) {
      global.seed = parse_seed(seed_text);
      if (!global.seed) throw UsageError("--seed: '" + seed_text + "' is not a seed");
    }
    log::configure({log::parse_format(global.log_format), log::parse_level(global.log_level)});
  });

  auto* help = app.add_subcommand("help", "Show help for faultline or one of its commands");
  std::string help_topic;
  help->add_option("command", help_topic, "the command to explain");
  help->callback([&] {
    if (help_topic.empty()) {
      // app.help() would describe the selected subcommand (this one); describe the app.
      std::printf(
          "%s",
          app.get_formatter()->make_help(&app, "faultline", CLI::AppFormatMode::Normal).c_str());
      return;
    }
    CLI::App* sub = nullptr;
    try {
      sub = app.get_subcommand(help_topic);
    } catch (const CLI::OptionNotFound&) {
      throw UsageError("help: unknown command '" + help_topic + "'");
    }
    std::printf("%s", sub->help().c_str());
  });
  cli::add_registered_commands(app);

  try {
    // The first word that is not an option must be a command; say which one is unknown.
    for (int i = 1; i < argc; ++i) {
      std::string word = argv[i];
      if (word.rfind("-", 0) == 0) {
        if (word == "--log-format" || word == "--log-level" || word == "--seed") ++i;
        continue;
      }
      std::vector<std::string> names;
      for (const auto* sub : app.get_subcommands({})) names.push_back(sub->get_name());
      if (std::find(names.begin(), names.end(), word) == names.end()) {
        throw UsageError("unknown command '" + word + "'" + did_you_mean(word, names) +
                         " (see 'faultline help')");
      }
      // A command made only of subcommands (`fake`): its next word must be one of them.
      CLI::App* command = app.get_subcommand(word);
      const auto subs = command->get_subcommands({});
      if (!subs.empty() && command->get_options().size() <= 1 && i + 1 < argc &&
          argv[i + 1][0] != '-') {
        const std::string next = argv[i + 1];
        std::vector<std::string> sub_names;
        for (const auto* sub : subs) sub_names.push_back(sub->get_name());
        if (std::find(sub_names.begin(), sub_names.end(), next) == sub_names.end()) {
          throw UsageError("unknown " + word + " '" + next + "'" + did_you_mean(next, sub_names) +
                           " (see 'faultline help " + word + "')");
        }
      }
      break;
    }
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "faultline: %s (see 'faultline help')\n", redact(e.what()).c_str());
    return 2;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "faultline: %s\n", redact(e.what()).c_str());
    return 2;
  } catch (const InputError& e) {
    std::fprintf(stderr, "faultline: %s\n", redact(e.what()).c_str());
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "faultline: %s\n", redact(e.what()).c_str());
    return 1;
  }
  return cli::exit_code();
}
