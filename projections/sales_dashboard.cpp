// The sales dashboard read model. Rows (projection-local keys):
//   o<opportunity id>              → how it was created and closed, its owner (JSON, see Deal)
//   w<close date>\0<owner>\0<currency> → the owner's opportunities won that day: count, Σ amount,
//                                    Σ cycle days
//   l<close date>\0<owner>         → the owner's opportunities lost that day: count
//   a<date>\0<rep>                 → activities logged by the rep that day (occurred_at, UTC)
//   t<task id>                     → the task as the dashboard knows it (JSON, see TaskRow)
//   d<due date>\0<task id>         → open tasks with a due date (the TaskRow)
//   p<appointment id>              → the appointment (JSON, see AppointmentRow)
//   s<be64 start ms><id>           → scheduled appointments by start (the AppointmentRow)
// A reopened opportunity takes its won/lost figures back (and a reassigned closed one moves them to
// its new owner); a task or appointment moves between index rows as it changes. The owner, rep,
// assignee is in every row a figure counts, so the dashboard can be narrowed to the people a
// caller may see (record-level reach).
#include "projections/sales_dashboard.hpp"

#include <map>
#include <stdexcept>

#include "domain/activity.hpp"
#include "domain/appointment.hpp"
#include "domain/codec.hpp"
#include "domain/opportunity.hpp"
#include "domain/task.hpp"
#include "projections/bytes.hpp"
#include "projections/sales_amounts.hpp"
#include "projections/stored_row.hpp"

namespace eventcrm::projections {
namespace {

namespace opportunity = domain::opportunity;
namespace activity = domain::activity;
namespace task = domain::task;
namespace appointment = domain::appointment;
using amounts::Units;
using domain::codec::overloaded;

std::string clean(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\0')
      c = '\1';
  }
  return out;
}

template <class A>
typename A::Event decode(const store::RecordedEvent& e) {
  auto event = A::decode(e.type, e.data);
  if (!event)
    throw std::runtime_error("event " + e.id + " (" + e.type +
                             ") does not decode: " + event.error().message);
  return std::move(*event);
}

std::string record_id(const store::RecordedEvent& e, std::string_view category) {
  return e.stream.substr(category.size() + 1);
}

// ---- opportunities: won / lost per close day ----

struct Deal {
  std::string status = "open";  // open | won | lost
  std::string owner_id;
  domain::Date created_on;
  std::optional<domain::Date> closed_on;
  std::optional<domain::Money> won_amount;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("status", s.status);
    f("owner_id", s.owner_id);
    f("created_on", s.created_on);
    f("closed_on", s.closed_on);
    f("won_amount", s.won_amount);
  }
};

struct WonDay {
  std::uint64_t count = 0;
  Units amount = 0;
  Units cycle_days = 0;
};

std::string won_key(domain::Date day, std::string_view owner, std::string_view currency) {
  return "w" + day.to_string() + std::string(1, '\0') + clean(owner) + std::string(1, '\0') +
         std::string(currency);
}
std::string lost_key(domain::Date day, std::string_view owner) {
  return "l" + day.to_string() + std::string(1, '\0') + clean(owner);
}

WonDay get_won(std::string_view in) {
  WonDay d;
  if (!bytes::get_varint(in, d.count) || !amounts::get(in, d.amount) ||
      !amounts::get(in, d.cycle_days))
    throw std::runtime_error("sales_dashboard: a won row does not decode");
  return d;
}
std::string put_won(const WonDay& d) {
  std::string out;
  bytes::put_varint(out, d.count);
  amounts::put(out, d.amount);
  amounts::put(out, d.cycle_days);
  return out;
}

std::uint64_t get_count(std::string_view in) {
  std::uint64_t n = 0;
  if (!bytes::get_varint(in, n))
    throw std::runtime_error("sales_dashboard: a count row does not decode");
  return n;
}
void add_count(Batch& batch, const std::string& key, int delta) {
  std::uint64_t n = 0;
  if (auto row = batch.get(key))
    n = get_count(*row);
  if (delta < 0 && n == 0)
    throw std::runtime_error("sales_dashboard: count " + key + " is already zero");
  n = delta < 0 ? n - 1 : n + 1;
  if (n == 0) {
    batch.del(key);
    return;
  }
  std::string out;
  bytes::put_varint(out, n);
  batch.put(key, out);
}

// Adds (sign 1) or takes back (sign -1) a closed deal's figures.
void count_closed(Batch& batch, const Deal& d, int sign) {
  if (d.status == "lost" && d.closed_on) {
    add_count(batch, lost_key(*d.closed_on, d.owner_id), sign);
  } else if (d.status == "won" && d.closed_on && d.won_amount) {
    std::string key = won_key(*d.closed_on, d.owner_id, d.won_amount->currency);
    WonDay day;
    if (auto row = batch.get(key))
      day = get_won(*row);
    Units amount = amounts::units(d.won_amount->amount);
    Units cycle = d.closed_on->days - d.created_on.days;
    if (sign < 0 && day.count == 0)
      throw std::runtime_error("sales_dashboard: won day " + key + " is already empty");
    day.count = sign < 0 ? day.count - 1 : day.count + 1;
    day.amount += sign < 0 ? -amount : amount;
    day.cycle_days += sign < 0 ? -cycle : cycle;
    if (day.count == 0)
      batch.del(key);
    else
      batch.put(key, put_won(day));
  }
}

void apply_opportunity(const store::RecordedEvent& e, Batch& batch) {
  auto event = decode<opportunity::Aggregate>(e);
  std::string key = "o" + record_id(e, opportunity::kCategory);
  Deal deal = read_stored<Deal>(batch, key, kSalesDashboard).value_or(Deal{});
  const Deal before = deal;
  bool closed_changed = false;
  std::visit(overloaded{
                 [&](const opportunity::Created& x) {
                   deal.created_on = x.created_at.date();
                   deal.owner_id = x.owner_id;
                 },
                 [&](const opportunity::Assigned& x) {
                   deal.owner_id = x.owner_id;
                   closed_changed = deal.status != "open";  // its figures move to the new owner
                 },
                 [&](const opportunity::Won& x) {
                   deal.status = "won";
                   deal.closed_on = x.closed_on;
                   deal.won_amount = x.amount;
                   closed_changed = true;
                 },
                 [&](const opportunity::Lost& x) {
                   deal.status = "lost";
                   deal.closed_on = x.closed_on;
                   deal.won_amount.reset();
                   closed_changed = true;
                 },
                 [&](const opportunity::Reopened&) {
                   deal.status = "open";
                   deal.closed_on.reset();
                   deal.won_amount.reset();
                   closed_changed = true;
                 },
                 [&](const auto&) {},
             },
             event);
  if (closed_changed) {
    count_closed(batch, before, -1);
    count_closed(batch, deal, 1);
  }
  if (closed_changed || std::holds_alternative<opportunity::Created>(event) ||
      std::holds_alternative<opportunity::Assigned>(event))
    batch.put(key, domain::codec::encode(deal));
}

// ---- activities per rep per day ----

void apply_activity(const store::RecordedEvent& e, Batch& batch) {
  auto event = decode<activity::Aggregate>(e);
  if (const auto* logged = std::get_if<activity::Logged>(&event)) {
    add_count(batch,
              "a" + logged->occurred_at.date().to_string() + std::string(1, '\0') +
                  clean(logged->logged_by),
              1);
  }
}

// ---- tasks by due date ----

struct TaskRow {
  std::string id;
  bool open = true;
  std::string title;
  std::string assignee_id;
  std::optional<domain::Date> due_date;
  std::optional<std::string> account_id;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("open", s.open);
    f("title", s.title);
    f("assignee_id", s.assignee_id);
    f("due_date", s.due_date);
    f("account_id", s.account_id);
  }
};

std::optional<std::string> due_key(const TaskRow& t) {
  if (!t.open || !t.due_date)
    return std::nullopt;
  return "d" + t.due_date->to_string() + std::string(1, '\0') + t.id;
}

void apply_task(const store::RecordedEvent& e, Batch& batch) {
  auto event = decode<task::Aggregate>(e);
  std::string id = record_id(e, task::kCategory);
  std::string key = "t" + id;
  TaskRow row = read_stored<TaskRow>(batch, key, kSalesDashboard).value_or(TaskRow{});
  auto old_index = due_key(row);
  row.id = id;
  std::visit(overloaded{
                 [&](const task::Created& x) {
                   row.open = true;
                   row.title = x.title;
                   row.assignee_id = x.assignee_id;
                   row.due_date = x.due_date;
                   row.account_id = x.account_id;
                 },
                 [&](const task::Assigned& x) { row.assignee_id = x.assignee_id; },
                 [&](const task::DueDateChanged& x) { row.due_date = x.due_date; },
                 [&](const task::Completed&) { row.open = false; },
                 [&](const task::Reopened&) { row.open = true; },
                 [&](const auto&) {},
             },
             event);
  std::string doc = domain::codec::encode(row);
  auto new_index = due_key(row);
  if (old_index && old_index != new_index)
    batch.del(*old_index);
  if (new_index)
    batch.put(*new_index, doc);
  batch.put(key, doc);
}

// ---- appointments by start ----

struct AppointmentRow {
  std::string id;
  bool scheduled = true;
  std::string subject;
  std::string owner_id;
  std::string account_id;
  domain::Timestamp starts_at;
  domain::Timestamp ends_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("id", s.id);
    f("scheduled", s.scheduled);
    f("subject", s.subject);
    f("owner_id", s.owner_id);
    f("account_id", s.account_id);
    f("starts_at", s.starts_at);
    f("ends_at", s.ends_at);
  }
};

std::string start_key(std::int64_t ms) {
  std::string k = "s";
  // Offset so instants before 1970 still sort below later ones.
  bytes::put_be64(k, static_cast<std::uint64_t>(ms) ^ (std::uint64_t{1} << 63));
  return k;
}

std::optional<std::string> schedule_key(const AppointmentRow& a) {
  if (!a.scheduled)
    return std::nullopt;
  return start_key(a.starts_at.ms) + a.id;
}

void apply_appointment(const store::RecordedEvent& e, Batch& batch) {
  auto event = decode<appointment::Aggregate>(e);
  std::string id = record_id(e, appointment::kCategory);
  std::string key = "p" + id;
  AppointmentRow row =
      read_stored<AppointmentRow>(batch, key, kSalesDashboard).value_or(AppointmentRow{});
  auto old_index = schedule_key(row);
  row.id = id;
  std::visit(overloaded{
                 [&](const appointment::Scheduled& x) {
                   row.scheduled = true;
                   row.subject = x.subject;
                   row.owner_id = x.owner_id;
                   row.account_id = x.account_id;
                   row.starts_at = x.starts_at;
                   row.ends_at = x.ends_at;
                 },
                 [&](const appointment::Rescheduled& x) {
                   row.starts_at = x.starts_at;
                   row.ends_at = x.ends_at;
                 },
                 [&](const appointment::Completed&) { row.scheduled = false; },
                 [&](const appointment::Cancelled&) { row.scheduled = false; },
                 [&](const auto&) {},  // reminders change nothing here
             },
             event);
  std::string doc = domain::codec::encode(row);
  auto new_index = schedule_key(row);
  if (old_index && old_index != new_index)
    batch.del(*old_index);
  if (new_index)
    batch.put(*new_index, doc);
  batch.put(key, doc);
}

class SalesDashboard final : public Projection {
 public:
  std::string name() const override { return std::string(kSalesDashboard); }
  std::uint32_t version() const override { return 2; }  // 2: owners in won/lost rows
  store::Filter filter() const override {
    return {{},
            {std::string(opportunity::kCategory), std::string(activity::kCategory),
             std::string(task::kCategory), std::string(appointment::kCategory)}};
  }
  void apply(const store::RecordedEvent& e, Batch& batch) override {
    std::string category = e.category();
    if (category == opportunity::kCategory)
      apply_opportunity(e, batch);
    else if (category == activity::kCategory)
      apply_activity(e, batch);
    else if (category == task::kCategory)
      apply_task(e, batch);
    else if (category == appointment::kCategory)
      apply_appointment(e, batch);
  }
};

std::string month_of(domain::Date d) {
  return d.to_string().substr(0, 7);
}

// n × 100 / total with 2 decimals, rounded half up.
std::string percent_text(std::uint64_t n, std::uint64_t total) {
  if (total == 0)
    return "0.00";
  std::uint64_t hundredths = (n * 10'000 * 2 + total) / (2 * total);
  std::string frac = std::to_string(hundredths % 100 + 100).substr(1);
  return std::to_string(hundredths / 100) + "." + frac;
}

template <class T>
T decode_row(std::string_view value) {
  auto parsed = domain::codec::decode<T>(value);
  if (!parsed)
    throw std::runtime_error("sales_dashboard: a row does not decode");
  return std::move(*parsed);
}

}  // namespace

std::unique_ptr<Projection> make_sales_dashboard() {
  return std::make_unique<SalesDashboard>();
}

Dashboard sales_dashboard(const View& view, const DashboardQuery& q) {
  Dashboard out;
  // Won and lost in the period.
  std::map<std::string, WonDay> by_month;
  std::map<std::string, WonDay> other;
  WonDay in_currency;
  Units cycle_days = 0;
  const std::string from_day = q.from.to_string(), to_day = q.to.to_string();
  const auto& owners = q.owners;
  view.scan("w" + from_day, "w" + to_day + "\1", [&](std::string_view key, std::string_view v) {
    key.remove_prefix(1);
    auto first = key.find('\0');
    auto last = key.rfind('\0');
    if (first == last)
      return true;
    if (owners && !owners(key.substr(first + 1, last - first - 1)))
      return true;
    std::string month(key.substr(0, 7));
    std::string currency(key.substr(last + 1));
    WonDay d = get_won(v);
    out.won += d.count;
    cycle_days += d.cycle_days;
    WonDay& target = currency == q.currency ? by_month[month] : other[currency];
    target.count += d.count;
    target.amount += d.amount;
    if (currency == q.currency) {
      in_currency.count += d.count;
      in_currency.amount += d.amount;
    }
    return true;
  });
  view.scan("l" + from_day, "l" + to_day + "\1", [&](std::string_view key, std::string_view v) {
    auto nul = key.find('\0');
    if (nul == std::string_view::npos || (owners && !owners(key.substr(nul + 1))))
      return true;
    out.lost += get_count(v);
    return true;
  });
  if (q.from <= q.to) {
    for (std::string m = month_of(q.from);;) {
      auto it = by_month.find(m);
      out.won_by_month.push_back(
          it == by_month.end() ? WonMonth{m, 0, "0.00"}
                               : WonMonth{m, it->second.count, amounts::text(it->second.amount)});
      if (m >= month_of(q.to))
        break;
      int year = std::stoi(m.substr(0, 4)), month = std::stoi(m.substr(5, 2));
      domain::Date next = month == 12
                              ? domain::Date::from_ymd(year + 1, 1, 1)
                              : domain::Date::from_ymd(year, static_cast<unsigned>(month + 1), 1);
      m = month_of(next);
    }
  }
  out.win_rate_percent = percent_text(out.won, out.won + out.lost);
  out.won_in_currency = in_currency.count;
  out.won_revenue = amounts::text(in_currency.amount);
  out.average_deal_size = amounts::average(in_currency.amount, in_currency.count);
  out.average_cycle_days = amounts::average(cycle_days * domain::Decimal::kUnit, out.won);
  for (const auto& [currency, d] : other)
    out.won_excluded.push_back({currency, d.count, amounts::text(d.amount)});

  // Activities this week (Monday to Sunday; 1970-01-01 was a Thursday).
  const std::int32_t weekday = ((q.today.days % 7) + 7 + 3) % 7;  // 0: Monday
  out.week_from = domain::Date{q.today.days - weekday};
  out.week_to = domain::Date{out.week_from.days + 6};
  std::map<std::string, std::uint64_t> reps;
  view.scan("a" + out.week_from.to_string(), "a" + out.week_to.to_string() + "\1",
            [&](std::string_view key, std::string_view v) {
              auto nul = key.find('\0');
              if (nul == std::string_view::npos || (owners && !owners(key.substr(nul + 1))))
                return true;
              std::uint64_t n = get_count(v);
              reps[std::string(key.substr(nul + 1))] += n;
              out.activities_this_week_total += n;
              return true;
            });
  for (const auto& [rep, n] : reps)
    out.activities_this_week.push_back({rep, n});

  // Open tasks due before today.
  view.scan("d", "d" + q.today.to_string(), [&](std::string_view, std::string_view v) {
    std::optional<TaskRow> t;
    if (owners) {
      t = decode_row<TaskRow>(v);
      if (!owners(t->assignee_id))
        return true;
    }
    ++out.overdue_tasks;
    if (out.overdue.size() < q.list_limit) {
      if (!t)
        t = decode_row<TaskRow>(v);
      out.overdue.push_back({t->id, t->title, t->assignee_id,
                             t->due_date ? t->due_date->to_string() : std::string(),
                             t->account_id});
    }
    return true;
  });

  // Scheduled appointments starting today (UTC).
  const std::int64_t day_ms = 86'400'000;
  const std::int64_t start = static_cast<std::int64_t>(q.today.days) * day_ms;
  view.scan(start_key(start), start_key(start + day_ms), [&](std::string_view, std::string_view v) {
    std::optional<AppointmentRow> a;
    if (owners) {
      a = decode_row<AppointmentRow>(v);
      if (!owners(a->owner_id))
        return true;
    }
    ++out.appointments_today;
    if (out.today.size() < q.list_limit) {
      if (!a)
        a = decode_row<AppointmentRow>(v);
      out.today.push_back({a->id, a->subject, a->owner_id, a->account_id, a->starts_at.to_string(),
                           a->ends_at.to_string()});
    }
    return true;
  });
  return out;
}

}  // namespace eventcrm::projections
