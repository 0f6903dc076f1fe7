// Who is calling and what their role allows. One table maps roles to permissions; every
// route names the permission it needs, so access rules live in one place.
#pragma once

#include <string>

#include "core/ids.h"
#include "store/records.h"

namespace siyu::api {

enum class Permission {
  kRead,             // read customers, orders, channels, staff list
  kWriteCustomers,   // create, update, tag, identify customers
  kEraseCustomers,   // erase personal data
  kIngest,           // post events and orders, import files
  kManageChannels,   // channels and their costs
  kManageStaff,      // staff users and roles
  kManageKeys,       // API keys
  kReadPersonal,     // see names, reveal phone and e-mail (audited)
  kExport,           // download CSV/NDJSON exports (audited)
  kReadAudit,        // read the audit log
  kManageJourneys,   // create, edit, activate and pause journeys and SOPs
  kManageDelivery,   // delivery settings: caps, quiet hours, channel and its secret
  kManageCommunity,  // groups, members and roles, moderation, auto-replies, channel codes
};

/// Whether `role` carries `p`.
bool allows(store::Role role, Permission p);

/// An authenticated caller: a console session of a staff user, or an API key.
struct Principal {
  WorkspaceId workspace;
  store::Role role = store::Role::kAnalyst;
  std::string actor;  // "user:3" or "key:7", written to the audit log
  UserId user;        // set for console sessions
  bool session = false;
  std::string csrf_token;  // sessions only
};

}  // namespace siyu::api
