#include "core/time_format.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <utility>

namespace siyu {
namespace {

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[static_cast<size_t>(m - 1)];
}

bool read_int(std::string_view s, size_t pos, size_t len, int& out) {
  if (pos + len > s.size()) return false;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
  return ec == std::errc() && p == s.data() + pos + len;
}

}  // namespace

// Howard Hinnant's days_from_civil.
int64_t days_from_civil(CivilDate d) {
  int64_t y = d.year - (d.month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t m = d.month;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp + (mp < 10 ? 3 : -9);
  return {static_cast<int>(y + (m <= 2 ? 1 : 0)), static_cast<int>(m), static_cast<int>(d)};
}

Result<CivilDate> parse_date(std::string_view s) {
  CivilDate d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !read_int(s, 0, 4, d.year) ||
      !read_int(s, 5, 2, d.month) || !read_int(s, 8, 2, d.day)) {
    return invalid("date must be YYYY-MM-DD");
  }
  if (d.year < 1900 || d.year > 2200 || d.month < 1 || d.month > 12 || d.day < 1 ||
      d.day > days_in_month(d.year, d.month)) {
    return invalid("date is not a calendar day");
  }
  return d;
}

std::string format_date(CivilDate d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

Result<EpochMs> parse_timestamp(std::string_view s, int default_offset_minutes) {
  if (s.size() < 19) return invalid("timestamp must be ISO 8601, e.g. 2026-01-31T20:00:00+08:00");
  auto date = parse_date(s.substr(0, 10));
  if (!date) return invalid("timestamp must be ISO 8601, e.g. 2026-01-31T20:00:00+08:00");
  int hh = 0, mm = 0, ss = 0;
  if ((s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' || !read_int(s, 11, 2, hh) ||
      !read_int(s, 14, 2, mm) || !read_int(s, 17, 2, ss) || hh > 23 || mm > 59 || ss > 60) {
    return invalid("timestamp must be ISO 8601, e.g. 2026-01-31T20:00:00+08:00");
  }
  size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return invalid("timestamp has an empty fraction");
    for (int i = digits; i < 3; ++i) millis *= 10;
  }
  int offset = default_offset_minutes;
  if (pos < s.size()) {
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
      offset = 0;
    } else if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
      int oh = 0, om = 0;
      if (!read_int(s, pos + 1, 2, oh) || !read_int(s, pos + 4, 2, om) || oh > 14 || om > 59) {
        return invalid("timestamp has a bad UTC offset");
      }
      offset = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    } else {
      return invalid("timestamp has trailing characters");
    }
  }
  const int64_t days = days_from_civil(*date);
  return ((days * 24 + hh) * 60 + mm - offset) * 60'000 + static_cast<int64_t>(ss) * 1000 + millis;
}

namespace {
std::string format_fields(EpochMs t, const char* suffix) {
  int64_t days = t >= 0 ? t / kMsPerDay : (t - kMsPerDay + 1) / kMsPerDay;
  int64_t ms = t - days * kMsPerDay;
  const CivilDate d = civil_from_days(days);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d%c%02d:%02d:%02d%s", d.year, d.month, d.day,
                suffix[0] == 'Z' ? 'T' : ' ', static_cast<int>(ms / 3'600'000),
                static_cast<int>(ms / 60'000 % 60), static_cast<int>(ms / 1000 % 60), suffix);
  if (suffix[0] == 'Z') {
    std::snprintf(buf + 19, sizeof buf - 19, ".%03dZ", static_cast<int>(ms % 1000));
  }
  return buf;
}
}  // namespace

std::string format_timestamp(EpochMs t) { return format_fields(t, "Z"); }

std::string format_local(EpochMs t, int offset_minutes) {
  return format_fields(t + static_cast<int64_t>(offset_minutes) * 60'000, "");
}

int64_t local_day(EpochMs t, int offset_minutes) {
  const EpochMs local = t + int64_t{offset_minutes} * 60'000;
  return local >= 0 ? local / kMsPerDay : (local - kMsPerDay + 1) / kMsPerDay;
}

Result<int> zone_offset_minutes(std::string_view zone) {
  static constexpr std::array<std::pair<std::string_view, int>, 8> kZones = {{
      {"Asia/Shanghai", 480}, {"Asia/Chongqing", 480}, {"Asia/Hong_Kong", 480},
      {"Asia/Taipei", 480}, {"Asia/Singapore", 480}, {"Asia/Tokyo", 540},
      {"UTC", 0}, {"Etc/UTC", 0},
  }};
  for (const auto& [name, offset] : kZones) {
    if (name == zone) return offset;
  }
  return invalid("unsupported time zone \"" + std::string(zone) + "\"", "timezone");
}

}  // namespace siyu
