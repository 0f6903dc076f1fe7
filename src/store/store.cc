#include "store/store.h"

#include <array>
#include <utility>

namespace siyu::store {

std::unique_ptr<Store> open_sqlite_store(const StoreConfig& config, Status& status);

namespace {
constexpr std::array<std::pair<Role, std::string_view>, 5> kRoles = {{
    {Role::kOwner, "owner"},
    {Role::kAdmin, "admin"},
    {Role::kOperator, "operator"},
    {Role::kStaff, "staff"},
    {Role::kAnalyst, "analyst"},
}};
}  // namespace

std::string_view role_name(Role r) {
  for (const auto& [role, name] : kRoles) {
    if (role == r) return name;
  }
  return "analyst";
}

std::optional<Role> parse_role(std::string_view s) {
  for (const auto& [role, name] : kRoles) {
    if (name == s) return role;
  }
  return std::nullopt;
}

Result<std::unique_ptr<Store>> open_store(const StoreConfig& config) {
  if (config.backend != "sqlite") {
    return invalid("unknown store backend \"" + config.backend + "\"", "backend");
  }
  Status status;
  auto store = open_sqlite_store(config, status);
  if (!status.is_ok()) return status;
  return store;
}

}  // namespace siyu::store
