// The `siyu` command's subcommands. main.cc only dispatches; each command parses its own
// flags and returns a process exit code.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace siyu::cli {

/// Flags of the form --name value or --flag (value "true"), and positional words.
struct Args {
  std::vector<std::string> words;
  std::map<std::string, std::string> flags;
  std::string get(const std::string& name, const std::string& fallback = "") const;
  bool has(const std::string& name) const { return flags.contains(name); }
};

Args parse_args(int argc, char** argv, int first);

int cmd_serve(const Args& a);
int cmd_demo(const Args& a);
int cmd_keys(const Args& a);
int cmd_workspace(const Args& a);
int cmd_users(const Args& a);
/// `siyu import online-retail --file PATH`: loads the UCI Online Retail order lines.
int cmd_import(const Args& a);

}  // namespace siyu::cli
