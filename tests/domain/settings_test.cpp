// Settings decisions: known keys with typed values; the defaults when nothing was set.
#include "domain/settings.hpp"

#include "given_when_then.hpp"

using namespace eventcrm::domain;
using namespace eventcrm::domain::settings;
using Settings = eventcrm::domain::settings::Aggregate;
using eventcrm::testing::Case;
using eventcrm::testing::Fails;
using eventcrm::testing::run_cases;

namespace {
using E = std::vector<Event>;
const std::string kFlag(kAssignmentNotifications);
const std::string kCurrency(kReportingCurrency);
}  // namespace

TEST(Settings, Change) {
  run_cases<Settings>({
      Case<Settings>{"switch notifications off",
                     {},
                     Change{kFlag, "false"},
                     E{Changed{kFlag, "false", std::nullopt}}},
      Case<Settings>{"and on again, naming the previous value",
                     {Changed{kFlag, "false", std::nullopt}},
                     Change{kFlag, "true"},
                     E{Changed{kFlag, "true", std::string("false")}}},
      Case<Settings>{"already so: nothing to record",
                     {Changed{kFlag, "false", std::nullopt}},
                     Change{kFlag, "false"},
                     E{}},
      Case<Settings>{"a flag is true or false",
                     {},
                     Change{kFlag, "off"},
                     Fails{errc::validation, {}, {"value"}}},
      Case<Settings>{"the reporting currency",
                     {},
                     Change{kCurrency, "USD"},
                     E{Changed{kCurrency, "USD", std::nullopt}}},
      Case<Settings>{"a currency is an ISO 4217 code",
                     {},
                     Change{kCurrency, "usd"},
                     Fails{errc::validation, {}, {"value"}}},
      Case<Settings>{"unknown keys are refused",
                     {},
                     Change{"colour", "blue"},
                     Fails{errc::validation, {}, {"key"}}},
  });
}

TEST(Settings, DefaultsAndFold) {
  State s;
  EXPECT_TRUE(s.assignment_notifications());
  EXPECT_EQ(s.reporting_currency(), "VND");
  settings::apply(s, Changed{kFlag, "false", std::nullopt});
  settings::apply(s, Changed{kCurrency, "EUR", std::nullopt});
  settings::apply(s, Changed{kCurrency, "USD", std::string("EUR")});
  EXPECT_FALSE(s.assignment_notifications());
  EXPECT_EQ(s.reporting_currency(), "USD");
  EXPECT_EQ(s.values.size(), 2u);
  State back;
  ASSERT_TRUE(Settings::decode_state(Settings::encode_state(s), back));
  EXPECT_EQ(back, s);
}
