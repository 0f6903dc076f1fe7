// The WeCom channel (企业微信): delivers outbox rows the way WeCom allows.
//  - A message answering an add-friend event within 20 seconds goes out as that friend's
//    welcome message (send_welcome_msg with the event's welcome code, usable once).
//  - Other messages become enterprise mass-message tasks (add_msg_template, chat_type single),
//    one task per staff member and content, which the staff member confirms in WeCom. A customer
//    receives at most one enterprise mass message a day: the rest wait for the next day.
//  - Group posts become group mass-message tasks (chat_type group) for the group's chat.
// Tasks are recorded; maintain() checks whether each was sent and reminds the staff member
// once when it has waited longer than the workspace allows.
#pragma once

#include "core/clock.h"
#include "outbox/channel.h"
#include "store/store.h"
#include "wecom/client.h"
#include "wecom/settings.h"

namespace siyu::wecom {

class WecomChannel final : public outbox::Channel {
 public:
  WecomChannel(store::Store& store, WorkspaceId ws, WecomSettings settings, const Clock& clock,
               int offset_minutes)
      : store_(store), ws_(ws), settings_(settings), client_(settings, clock), clock_(clock),
        offset_minutes_(offset_minutes) {}

  std::vector<outbox::Receipt> deliver(const std::vector<store::OutboxItem>& items) override;
  Status maintain(EpochMs now) override;

  Client& client() { return client_; }

 private:
  /// The attachments of a payload's content (link, image) in WeCom's form.
  Result<Json> attachments(const Json& content);
  std::optional<outbox::Receipt> try_welcome(const store::OutboxItem& item, const Json& payload);
  void mass_send(const std::vector<const store::OutboxItem*>& items, const Json& payload,
                 const std::string& sender, std::vector<outbox::Receipt>& out,
                 const std::vector<size_t>& positions);

  store::Store& store_;
  WorkspaceId ws_;
  WecomSettings settings_;
  Client client_;
  const Clock& clock_;
  int offset_minutes_;
};

}  // namespace siyu::wecom
