#include "api/access.h"

namespace siyu::api {

bool allows(store::Role role, Permission p) {
  using store::Role;
  switch (role) {
    case Role::kOwner:
    case Role::kAdmin:
      return true;
    case Role::kOperator:
      return p != Permission::kManageStaff && p != Permission::kManageKeys &&
             p != Permission::kReadAudit && p != Permission::kEraseCustomers &&
             p != Permission::kManageDelivery;
    case Role::kStaff:
      return p == Permission::kRead || p == Permission::kWriteCustomers ||
             p == Permission::kIngest || p == Permission::kManageCommunity;
    case Role::kAnalyst:
      return p == Permission::kRead || p == Permission::kExport;
  }
  return false;
}

}  // namespace siyu::api
