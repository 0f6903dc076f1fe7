// siyu — the single binary: serve, demo, keys, workspace, users.
#include <cstdio>
#include <cstring>

#include "cli/commands.h"

namespace {
constexpr const char* kUsage =
    "usage: siyu <command> [flags]\n"
    "  serve     --data DIR [--listen 127.0.0.1:8080] [--static web/dist]\n"
    "  demo      --data DIR [--customers 100000] [--seed 42] [--workspace demo]\n"
    "  keys      create --data DIR --workspace SLUG --role ROLE [--name NAME] [--json]\n"
    "  workspace create --data DIR --slug SLUG --name NAME [--timezone Asia/Shanghai]\n"
    "  users     create --data DIR --workspace SLUG --email E --role ROLE --password P\n"
    "  import    online-retail --data DIR --file PATH [--workspace online-retail]\n";
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  const siyu::cli::Args args = siyu::cli::parse_args(argc, argv, 2);
  if (cmd == "serve") return siyu::cli::cmd_serve(args);
  if (cmd == "demo") return siyu::cli::cmd_demo(args);
  if (cmd == "keys") return siyu::cli::cmd_keys(args);
  if (cmd == "workspace") return siyu::cli::cmd_workspace(args);
  if (cmd == "users") return siyu::cli::cmd_users(args);
  if (cmd == "import") return siyu::cli::cmd_import(args);
  std::fprintf(stderr, "siyu: unknown command \"%s\"\n%s", cmd.c_str(), kUsage);
  return 2;
}
