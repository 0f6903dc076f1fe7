// Strong id types: a CustomerId can't be passed where a WorkspaceId is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace siyu {

template <typename Tag, typename Rep = int64_t>
struct StrongId {
  Rep value = 0;
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : value(v) {}
  constexpr bool valid() const { return value > 0; }
  friend constexpr auto operator<=>(StrongId, StrongId) = default;
};

using WorkspaceId = StrongId<struct WorkspaceTag>;
/// Dense per-workspace customer number (1, 2, ...), the bit position in segment bitmaps.
using CustomerId = StrongId<struct CustomerTag>;
using UserId = StrongId<struct UserTag>;
using ChannelId = StrongId<struct ChannelTag>;
using ApiKeyId = StrongId<struct ApiKeyTag>;
using GroupId = StrongId<struct GroupTag>;

/// Money in integer cents (分). Never a float.
using Cents = int64_t;
/// UTC time in milliseconds since the Unix epoch, as stored.
using EpochMs = int64_t;

}  // namespace siyu

template <typename Tag, typename Rep>
struct std::hash<siyu::StrongId<Tag, Rep>> {
  size_t operator()(siyu::StrongId<Tag, Rep> id) const noexcept { return std::hash<Rep>{}(id.value); }
};
