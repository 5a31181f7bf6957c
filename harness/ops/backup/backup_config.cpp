#include "harness/ops/backup/backup_config.h"

#include <unistd.h>

#include <ctime>
#include <sstream>
#include <vector>

#include "harness/core/error.h"

namespace faultline::ops {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) out.push_back(part);
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

int number(const std::string& text, const std::string& field) {
  if (text.empty() || text.size() > 4 || text.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError("BACKUP_SCHEDULE: " + field + " field: '" + text + "' is not a number");
  return std::stoi(text);
}

// Parses one cron field into `bits` (values lo..hi). Returns true if the field is `*`.
template <std::size_t N>
bool parse_field(const std::string& text, int lo, int hi, const std::string& name,
                 std::bitset<N>& bits) {
  if (text.empty()) throw UsageError("BACKUP_SCHEDULE: empty " + name + " field");
  for (const std::string& item : split(text, ',')) {
    std::string range = item;
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string::npos) {
      range = item.substr(0, slash);
      step = number(item.substr(slash + 1), name);
      if (step <= 0) throw UsageError("BACKUP_SCHEDULE: " + name + " step must be positive");
    }
    int from = lo, to = hi;
    if (range != "*") {
      if (auto dash = range.find('-'); dash != std::string::npos) {
        from = number(range.substr(0, dash), name);
        to = number(range.substr(dash + 1), name);
      } else {
        from = to = number(range, name);
        if (step != 1) to = hi;  // "a/n": from a to the end
      }
    }
    if (from < lo || to > hi || from > to) {
      throw UsageError("BACKUP_SCHEDULE: " + name + " field '" + item + "' is outside " +
                       std::to_string(lo) + "-" + std::to_string(hi));
    }
    for (int v = from; v <= to; v += step) bits.set(static_cast<std::size_t>(v));
  }
  return text == "*";
}

std::tm utc(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  return tm;
}

}  // namespace

CronSchedule CronSchedule::parse(const std::string& expression) {
  std::vector<std::string> fields;
  std::istringstream in(expression);
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5) {
    throw UsageError("BACKUP_SCHEDULE '" + expression +
                     "': expected 5 fields (minute hour day-of-month month day-of-week), got " +
                     std::to_string(fields.size()));
  }
  CronSchedule s;
  s.expression_ = expression;
  parse_field(fields[0], 0, 59, "minute", s.minutes_);
  parse_field(fields[1], 0, 23, "hour", s.hours_);
  s.days_any_ = parse_field(fields[2], 1, 31, "day-of-month", s.days_);
  parse_field(fields[3], 1, 12, "month", s.months_);
  s.weekdays_any_ = parse_field(fields[4], 0, 7, "day-of-week", s.weekdays_);
  if (s.weekdays_[7]) s.weekdays_.set(0);
  return s;
}

bool CronSchedule::matches(std::chrono::system_clock::time_point at) const {
  const std::tm tm = utc(at);
  if (!minutes_[tm.tm_min] || !hours_[tm.tm_hour] || !months_[tm.tm_mon + 1]) return false;
  const bool day = days_[tm.tm_mday], weekday = weekdays_[tm.tm_wday];
  if (days_any_ || weekdays_any_) return day && weekday;
  return day || weekday;
}

std::chrono::system_clock::time_point CronSchedule::next_after(
    std::chrono::system_clock::time_point after) const {
  using namespace std::chrono;
  auto t = floor<minutes>(after) + minutes(1);
  const auto limit = t + hours(24 * 366 * 5);
  while (t < limit) {
    const std::tm tm = utc(t);
    if (!months_[tm.tm_mon + 1] ||
        !(days_any_ || weekdays_any_ ? days_[tm.tm_mday] && weekdays_[tm.tm_wday]
                                     : days_[tm.tm_mday] || weekdays_[tm.tm_wday])) {
      t = floor<days>(t) + days(1);  // skip the rest of the day
      continue;
    }
    if (!hours_[tm.tm_hour]) {
      t = floor<hours>(t) + hours(1);
      continue;
    }
    if (matches(t)) return time_point_cast<system_clock::duration>(t);
    t += minutes(1);
  }
  throw UsageError("BACKUP_SCHEDULE '" + expression_ + "' never fires");
}

void BackupConfig::validate() const {
  if (directory.empty()) throw UsageError("backup directory: not set");
  if (retention_days <= 0) {
    throw UsageError("BACKUP_RETENTION_DAYS must be positive, got " +
                     std::to_string(retention_days));
  }
  CronSchedule::parse(schedule);
  if (wal_archive_interval.count() <= 0) throw UsageError("WAL archive interval must be positive");
  if (rpo_target.count() <= 0 || rto_target.count() <= 0)
    throw UsageError("RPO and RTO targets must be positive");
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec || !std::filesystem::is_directory(directory)) {
    throw UsageError("backup directory " + directory.string() +
                     " cannot be created: " + (ec ? ec.message() : "not a directory"));
  }
  if (::access(directory.c_str(), R_OK | W_OK | X_OK) != 0) {
    throw UsageError("backup directory " + directory.string() + " is not readable and writable");
  }
}

}  // namespace faultline::ops
