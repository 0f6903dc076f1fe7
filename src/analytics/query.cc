#include "analytics/query.h"

#include <array>
#include <cstdio>

#include "core/time_format.h"

namespace siyu::analytics {

Period Period::previous() const {
  const uint32_t length = to - from;
  return {from >= length ? from - length : 0, from};
}

std::optional<Grain> parse_grain(std::string_view s) {
  if (s == "day") return Grain::kDay;
  if (s == "week") return Grain::kWeek;
  if (s == "month") return Grain::kMonth;
  return std::nullopt;
}

int32_t bucket_of(int32_t day, Grain g) {
  switch (g) {
    case Grain::kDay: return day;
    case Grain::kWeek: {
      const int32_t weekday = ((day % 7) + 7 + 3) % 7;  // 1970-01-01 was a Thursday; Monday = 0
      return day - weekday;
    }
    case Grain::kMonth: {
      CivilDate c = civil_from_days(day);
      c.day = 1;
      return static_cast<int32_t>(days_from_civil(c));
    }
  }
  return day;
}

int32_t next_bucket(int32_t bucket, Grain g) {
  switch (g) {
    case Grain::kDay: return bucket + 1;
    case Grain::kWeek: return bucket + 7;
    case Grain::kMonth: {
      CivilDate c = civil_from_days(bucket);
      c.month += 1;
      if (c.month > 12) {
        c.month = 1;
        c.year += 1;
      }
      c.day = 1;
      return static_cast<int32_t>(days_from_civil(c));
    }
  }
  return bucket + 1;
}

std::string day_label(int32_t day) { return format_date(civil_from_days(day)); }

std::string bucket_label(int32_t bucket, Grain g) {
  std::string s = day_label(bucket);
  return g == Grain::kMonth ? s.substr(0, 7) : s;
}

int32_t year_of(int32_t day) { return civil_from_days(day).year; }

CustomerMask CustomerMask::of(const std::vector<uint32_t>& ids, uint32_t size) {
  CustomerMask m;
  m.all_ = false;
  m.bits_.assign(size / 64 + 1, 0);
  for (uint32_t id : ids) {
    if (id / 64 >= m.bits_.size()) m.bits_.resize(id / 64 + 1, 0);
    m.bits_[id / 64] |= uint64_t{1} << (id % 64);
  }
  return m;
}

namespace {
struct DimensionName {
  Dimension dim;
  std::string_view name;
};
constexpr std::array<DimensionName, 15> kDimensions = {{
    {Dimension::kNone, "none"},           {Dimension::kLayer, "layer"},
    {Dimension::kChannel, "channel"},     {Dimension::kCampaign, "campaign"},
    {Dimension::kContent, "content"},     {Dimension::kOwnerStaff, "owner_staff"},
    {Dimension::kReferrerStaff, "referrer_staff"}, {Dimension::kPartner, "partner"},
    {Dimension::kCity, "city"},           {Dimension::kGender, "gender"},
    {Dimension::kAgeBand, "age_band"},    {Dimension::kStore, "store"},
    {Dimension::kOrderChannel, "order_channel"}, {Dimension::kOrderStaff, "order_staff"},
    {Dimension::kSegment, "segment"},
}};
constexpr std::array<std::string_view, 7> kAgeBands = {"", "<18", "18-24", "25-34",
                                                       "35-44", "45-54", "55+"};

uint32_t age_band_code(uint16_t birth_year, int32_t year) {
  if (birth_year == 0) return 0;
  const int32_t age = year - birth_year;
  if (age < 0 || age > 120) return 0;
  if (age < 18) return 1;
  if (age < 25) return 2;
  if (age < 35) return 3;
  if (age < 45) return 4;
  if (age < 55) return 5;
  return 6;
}
}  // namespace

std::optional<Dimension> parse_dimension(std::string_view s) {
  for (const auto& d : kDimensions) {
    if (d.name == s) return d.dim;
  }
  return std::nullopt;
}

std::string_view dimension_name(Dimension dim) {
  for (const auto& d : kDimensions) {
    if (d.dim == dim) return d.name;
  }
  return "none";
}

bool is_order_dimension(Dimension d) {
  return d == Dimension::kStore || d == Dimension::kOrderChannel || d == Dimension::kOrderStaff;
}

std::string_view age_band(uint16_t birth_year, int32_t year) {
  return kAgeBands[age_band_code(birth_year, year)];
}

Breakdown::Breakdown(const Dataset& d, Dimension dim, std::vector<NamedMask> segments,
                     int32_t today)
    : d_(d), dim_(dim), segments_(std::move(segments)), year_(year_of(today)) {
  if (dim_ == Dimension::kSegment) {
    for (const NamedMask& s : segments_) labels_.push_back(s.name);
  }
}

uint32_t Breakdown::key(uint32_t customer, const OrderRow* order) const {
  const CustomerRow& c = d_.customers[customer];
  switch (dim_) {
    case Dimension::kNone:
    case Dimension::kSegment: return 0;
    case Dimension::kLayer: return c.layer;
    case Dimension::kChannel: return c.channel;
    case Dimension::kCampaign: return c.campaign;
    case Dimension::kContent: return c.content;
    case Dimension::kOwnerStaff: return c.owner;
    case Dimension::kReferrerStaff: return c.referrer_staff;
    case Dimension::kPartner: return c.partner;
    case Dimension::kCity: return c.city;
    case Dimension::kGender: return c.gender;
    case Dimension::kAgeBand: return age_band_code(c.birth_year, year_);
    case Dimension::kStore: return order ? order->store : 0;
    case Dimension::kOrderChannel: return order ? order->channel : 0;
    case Dimension::kOrderStaff: return order ? order->staff : 0;
  }
  return 0;
}

std::string Breakdown::key_label(uint32_t key) const {
  switch (dim_) {
    case Dimension::kNone: return "all";
    case Dimension::kLayer: return std::string(layer_name(static_cast<uint8_t>(key)));
    case Dimension::kAgeBand: return std::string(kAgeBands[key]);
    case Dimension::kStore:
    case Dimension::kOrderChannel:
    case Dimension::kOrderStaff: return d_.order_text.name(key);
    default: return d_.customer_text.name(key);
  }
}

size_t Breakdown::group_of(uint32_t key) {
  if (key >= group_by_key_.size()) group_by_key_.resize(static_cast<size_t>(key) + 1, -1);
  int32_t& g = group_by_key_[key];
  if (g < 0) {
    g = static_cast<int32_t>(labels_.size());
    labels_.push_back(key_label(key));
  }
  return static_cast<size_t>(g);
}

}  // namespace siyu::analytics
