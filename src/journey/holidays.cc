#include "journey/holidays.h"

#include <algorithm>
#include <array>

namespace siyu::journey {
namespace {

constexpr int kFirstYear = 2024;
constexpr int kLastYear = 2030;

struct LunarHoliday {
  std::string_view name;
  std::string_view english;
  std::array<std::array<int, 2>, kLastYear - kFirstYear + 1> month_day;  // by year
};

// Festivals on the lunar calendar (and Qingming, a solar term), 2024–2030.
constexpr std::array<LunarHoliday, 6> kLunar = {{
    {"春节", "Spring Festival", {{{2, 10}, {1, 29}, {2, 17}, {2, 6}, {1, 26}, {2, 13}, {2, 3}}}},
    {"元宵", "Lantern Festival", {{{2, 24}, {2, 12}, {3, 3}, {2, 20}, {2, 9}, {2, 27}, {2, 17}}}},
    {"清明", "Qingming", {{{4, 4}, {4, 4}, {4, 5}, {4, 5}, {4, 4}, {4, 4}, {4, 5}}}},
    {"端午", "Dragon Boat Festival", {{{6, 10}, {5, 31}, {6, 19}, {6, 9}, {5, 28}, {6, 16}, {6, 5}}}},
    {"七夕", "Qixi", {{{8, 10}, {8, 29}, {8, 19}, {8, 8}, {8, 26}, {8, 16}, {8, 5}}}},
    {"中秋", "Mid-Autumn Festival", {{{9, 17}, {10, 6}, {9, 25}, {9, 15}, {10, 3}, {9, 22}, {9, 12}}}},
}};

struct SolarHoliday {
  std::string_view name;
  std::string_view english;
  int month;
  int day;
};

constexpr std::array<SolarHoliday, 10> kSolar = {{
    {"元旦", "New Year's Day", 1, 1},
    {"情人节", "Valentine's Day", 2, 14},
    {"妇女节", "Women's Day", 3, 8},
    {"劳动节", "Labour Day", 5, 1},
    {"520", "520", 5, 20},
    {"618", "618 Shopping Festival", 6, 18},
    {"国庆", "National Day", 10, 1},
    {"双十一", "Singles' Day", 11, 11},
    {"双十二", "Double Twelve", 12, 12},
    {"圣诞", "Christmas", 12, 25},
}};

}  // namespace

bool is_holiday(std::string_view name) { return holiday_date(name, kFirstYear).has_value(); }

std::optional<CivilDate> holiday_date(std::string_view name, int year) {
  if (year < kFirstYear || year > kLastYear) return std::nullopt;
  for (const LunarHoliday& h : kLunar) {
    if (h.name == name || h.english == name) {
      const auto& md = h.month_day[static_cast<size_t>(year - kFirstYear)];
      return CivilDate{year, md[0], md[1]};
    }
  }
  for (const SolarHoliday& h : kSolar) {
    if (h.name == name || h.english == name) return CivilDate{year, h.month, h.day};
  }
  return std::nullopt;
}

std::vector<Holiday> holidays_between(int from_year, int to_year) {
  std::vector<Holiday> out;
  for (int y = std::max(from_year, kFirstYear); y <= std::min(to_year, kLastYear); ++y) {
    for (const LunarHoliday& h : kLunar) {
      out.push_back({std::string(h.name), std::string(h.english), *holiday_date(h.name, y)});
    }
    for (const SolarHoliday& h : kSolar) {
      out.push_back({std::string(h.name), std::string(h.english), CivilDate{y, h.month, h.day}});
    }
  }
  std::sort(out.begin(), out.end(), [](const Holiday& a, const Holiday& b) {
    return days_from_civil(a.date) < days_from_civil(b.date);
  });
  return out;
}

}  // namespace siyu::journey
