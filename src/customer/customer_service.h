// Customers and One-ID over the Store: validation of attributes and custom fields, sealing
// of personal data, masking on output, identify/merge. JSON in, JSON out, so the HTTP layer
// stays a thin router; the CSV importer and the demo reuse the same paths.
#pragma once

#include <optional>
#include <string>

#include "core/clock.h"
#include "core/json.h"
#include "customer/identity.h"
#include "store/store.h"

namespace siyu::customer {

/// How much personal data a response may show.
struct View {
  bool pii_allowed = false;  // the role may see personal data at all (names unmasked)
  bool reveal = false;       // show phone, email and personal custom fields in plaintext
};

/// Thread-safe (stateless apart from the injected store, vault and clock).
class CustomerService {
 public:
  CustomerService(store::Store& store, const security::Vault& vault, const Clock& clock)
      : store_(store), vault_(vault), clock_(clock) {}

  /// Creates a customer from a JSON body. Phone and email also become identities.
  /// kConflict when an identity belongs to another customer; kInvalidArgument names the field.
  Result<Json> create(WorkspaceId ws, const Json& body, const View& view);
  /// Applies a partial update (JSON merge semantics: null clears a field).
  Result<Json> update(WorkspaceId ws, CustomerId id, const Json& body, const View& view);
  /// One customer with identities and tags. A merged-away id answers with the survivor.
  Result<Json> get(WorkspaceId ws, CustomerId id, const View& view);
  /// A page of customers in the filter's order and the cursor of the next page: "<id>", or
  /// "<created_at ms>.<id>" when sorted by joining time.
  Result<Json> list(WorkspaceId ws, const store::CustomerFilter& filter, const View& view);
  /// GDPR-style erase.
  Status erase(WorkspaceId ws, CustomerId id);
  /// POST /v1/identify: {"identities":[...], "attributes":{...}}.
  Result<Json> identify(WorkspaceId ws, const Json& body, const View& view);
  /// Renders one stored customer.
  Json render(const store::Customer& c, const View& view) const;
  /// Resolves an identity search ("13800138000", "o_abc", ...) to a customer id.
  Result<std::optional<CustomerId>> find_by_identity_value(WorkspaceId ws, std::string_view value);
  /// Declares a custom field: {"name","type","personal","label"}.
  Status define_field(WorkspaceId ws, const Json& body);

 private:
  /// Applies attribute fields of `body` onto `c`; collects identities implied by phone/email.
  Status apply_attributes(WorkspaceId ws, const Json& body, store::Customer& c,
                          std::vector<store::Identity>& implied);

  store::Store& store_;
  const security::Vault& vault_;
  const Clock& clock_;
};

}  // namespace siyu::customer
