#include "store/sqlite/event_keys.h"

#include <algorithm>
#include <queue>
#include <unordered_map>

#include "store/sqlite/varint.h"

namespace siyu::store::sqlite::event_keys {
namespace {

// A block: varint type count, each type as varint length and bytes; varint key count; then per
// key: varint type index, varint customer step from the key before (from 0 for the first),
// zigzag ts (a step from the key before within a customer, else absolute), zigzag seq step
// from the key before, zigzag amount.

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

/// Builds one block key by key.
class BlockWriter {
 public:
  void add(const EventKey& k) {
    auto [it, fresh] = type_ids_.try_emplace(k.type, types_.size());
    if (fresh) types_.push_back(k.type);
    put_varint(body_, it->second);
    const bool same_customer = count_ > 0 && k.customer == last_.customer;
    put_varint(body_, static_cast<uint64_t>(k.customer - (count_ > 0 ? last_.customer : 0)));
    put_varint(body_, zigzag(same_customer ? k.ts - last_.ts : k.ts));
    put_varint(body_, zigzag(k.seq - (count_ > 0 ? last_.seq : 0)));
    put_varint(body_, zigzag(k.amount));
    if (count_ == 0) first_customer_ = k.customer;
    last_ = k;
    ++count_;
  }
  size_t size() const { return body_.size(); }
  bool empty() const { return count_ == 0; }
  int64_t last_customer() const { return last_.customer; }

  Block finish() {
    Block b{first_customer_, last_.customer, {}};
    put_varint(b.bytes, types_.size());
    for (const std::string& t : types_) {
      put_varint(b.bytes, t.size());
      b.bytes += t;
    }
    put_varint(b.bytes, count_);
    b.bytes += body_;
    *this = BlockWriter();
    return b;
  }

 private:
  std::unordered_map<std::string, size_t> type_ids_;
  std::vector<std::string> types_;
  std::string body_;
  EventKey last_;
  int64_t first_customer_ = 0;
  uint64_t count_ = 0;
};

}  // namespace

std::vector<Block> encode_blocks(std::span<const EventKey> sorted, size_t target_bytes) {
  std::vector<Block> out;
  BlockWriter w;
  for (const EventKey& k : sorted) {
    if (!w.empty() && w.size() >= target_bytes && k.customer != w.last_customer()) {
      out.push_back(w.finish());
    }
    w.add(k);
  }
  if (!w.empty()) out.push_back(w.finish());
  return out;
}

Result<std::vector<EventKey>> decode_block(std::string_view bytes) {
  const Status broken = internal_error("an event key block is damaged");
  VarintReader r(bytes);
  uint64_t type_count = 0;
  if (!r.varint(type_count) || type_count > bytes.size()) return broken;
  std::vector<std::string> types(type_count);
  for (std::string& t : types) {
    uint64_t n = 0;
    if (!r.varint(n) || !r.text(t, n)) return broken;
  }
  uint64_t count = 0;
  if (!r.varint(count) || count > bytes.size()) return broken;
  std::vector<EventKey> out(count);
  EventKey last;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t type = 0, customer_step = 0, ts = 0, seq_step = 0, amount = 0;
    if (!r.varint(type) || type >= types.size() || !r.varint(customer_step) || !r.varint(ts) ||
        !r.varint(seq_step) || !r.varint(amount)) {
      return broken;
    }
    EventKey& k = out[i];
    k.customer = (i > 0 ? last.customer : 0) + static_cast<int64_t>(customer_step);
    k.ts = unzigzag(ts) + (i > 0 && k.customer == last.customer ? last.ts : 0);
    k.seq = (i > 0 ? last.seq : 0) + unzigzag(seq_step);
    k.amount = unzigzag(amount);
    k.type = types[type];
    last = k;
  }
  if (!r.done()) return broken;
  return out;
}

std::vector<EventKey> merge_runs(std::vector<std::vector<EventKey>> runs) {
  size_t total = 0;
  for (const auto& run : runs) total += run.size();
  std::vector<EventKey> out;
  out.reserve(total);
  // (run, position) of each run's next key, smallest key on top.
  using Head = std::pair<size_t, size_t>;
  const auto later = [&](const Head& a, const Head& b) {
    return key_less(runs[b.first][b.second], runs[a.first][a.second]);
  };
  std::priority_queue<Head, std::vector<Head>, decltype(later)> heads(later);
  for (size_t r = 0; r < runs.size(); ++r) {
    if (!runs[r].empty()) heads.emplace(r, 0);
  }
  while (!heads.empty()) {
    auto [r, i] = heads.top();
    heads.pop();
    out.push_back(std::move(runs[r][i]));
    if (i + 1 < runs[r].size()) heads.emplace(r, i + 1);
  }
  return out;
}

}  // namespace siyu::store::sqlite::event_keys
