// Versioned schema migrations, compiled from migrations/NNNN_name.sql.
#pragma once

#include <string_view>
#include <vector>

namespace siyu::store::sqlite {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

/// All migrations in ascending version order.
extern const std::vector<Migration> kMigrations;

}  // namespace siyu::store::sqlite
