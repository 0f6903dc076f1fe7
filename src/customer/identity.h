// Identity parsing and protection for One-ID (DOMAIN.md §2): normalises each identity type,
// and turns personal ones (phone, email) into a blind-index key plus a sealed original.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "security/crypto.h"
#include "store/records.h"

namespace siyu::customer {

/// The identity types Siyu understands.
inline constexpr const char* kIdentityTypes[] = {
    "wechat_unionid", "wechat_openid", "wecom_external_userid", "phone",
    "email",          "app_user_id",   "member_card"};

/// Whether values of `type` are personal data (sealed at rest, masked in output).
bool is_personal_type(std::string_view type);

/// Normalises a Chinese or international mobile number to digits with an optional leading
/// "+": "+86 138-0013-8000" → "13800138000". Error names `field`.
Result<std::string> normalize_phone(std::string_view raw, const std::string& field);
/// Lower-cases and checks the shape of an e-mail address.
Result<std::string> normalize_email(std::string_view raw, const std::string& field);

std::string mask_phone(std::string_view phone);  // 13812345678 → 138****5678
std::string mask_email(std::string_view email);  // zhang@x.com → z****@x.com
std::string mask_name(std::string_view name);    // 张三丰 → 张**

/// Builds protected identities for one workspace.
class IdentityCodec {
 public:
  IdentityCodec(const security::Vault& vault, WorkspaceId ws) : vault_(vault), ws_(ws) {}

  /// Parses {"type","value","app_id"} at `path`. app_id is required for wechat_openid and
  /// rejected for other types.
  Result<store::Identity> parse(const Json& j, const std::string& path) const;
  /// Builds an identity from already separated parts (CSV import, demo).
  Result<store::Identity> make(std::string_view type, std::string_view value,
                               std::string_view app_id, const std::string& path) const;
  /// Seals a personal value of this workspace; `field` is phone, email or a custom field.
  std::string seal(std::string_view value, std::string_view field) const;
  Result<std::string> unseal(std::string_view sealed, std::string_view field) const;

 private:
  std::string context(std::string_view field) const;
  const security::Vault& vault_;
  WorkspaceId ws_;
};

}  // namespace siyu::customer
