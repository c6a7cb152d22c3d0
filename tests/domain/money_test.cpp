#include <gtest/gtest.h>

#include "domain/money.hpp"

using eventcrm::domain::Decimal;

TEST(Decimal, ParsesAndFormats) {
  struct Case {
    const char* in;
    const char* out2;
  } cases[] = {{"0", "0.00"},       {"1250.00", "1250.00"},
               {"-3.5", "-3.50"},   {"0.005", "0.01"},
               {"-0.005", "-0.01"}, {"+7", "7.00"},
               {"0.0049", "0.00"},  {"123456789.1234", "123456789.12"}};
  for (const auto& c : cases) {
    auto d = Decimal::parse(c.in);
    ASSERT_TRUE(d) << c.in;
    EXPECT_EQ(d->to_string(2), c.out2) << c.in;
  }
}

TEST(Decimal, RejectsMalformed) {
  for (const char* bad :
       {"", "-", "1.", ".5", "1e5", "1.23456", "12a", " 1", "1 ", "NaN", "99999999999999999999"}) {
    EXPECT_FALSE(Decimal::parse(bad)) << bad;
  }
}

TEST(Decimal, WeightedAmountRoundsHalfAwayFromZero) {
  auto amount = *Decimal::parse("100000");
  EXPECT_EQ(amount.percent(25)->to_string(0), "25000");
  EXPECT_EQ(Decimal::parse("0.0001")->percent(50)->units(), 1);
  EXPECT_EQ(Decimal::parse("-0.0001")->percent(50)->units(), -1);
}

TEST(Decimal, ArithmeticIsChecked) {
  auto big = Decimal::from_units(INT64_MAX);
  EXPECT_FALSE(big.plus(Decimal::from_units(1)));
  EXPECT_FALSE(Decimal::from_units(INT64_MIN).minus(Decimal::from_units(1)));
  EXPECT_EQ(Decimal::parse("1.5")->times(*Decimal::parse("2.25"))->to_string(4), "3.3750");
  EXPECT_FALSE(big.times(*Decimal::parse("2")));
}
