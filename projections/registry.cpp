// The table of read models.
#include "projections/registry.hpp"

#include "projections/account_360.hpp"
#include "projections/accounts.hpp"
#include "projections/activities.hpp"
#include "projections/appointments.hpp"
#include "projections/contacts.hpp"
#include "projections/contracts.hpp"
#include "projections/customer_history.hpp"
#include "projections/inventory.hpp"
#include "projections/leads.hpp"
#include "projections/marketing.hpp"
#include "projections/opportunities.hpp"
#include "projections/orders.hpp"
#include "projections/pipeline.hpp"
#include "projections/products.hpp"
#include "projections/quotes.hpp"
#include "projections/sales_dashboard.hpp"
#include "projections/tasks.hpp"
#include "projections/users.hpp"
#include "projections/vouchers.hpp"

namespace eventcrm::projections {

std::vector<std::unique_ptr<Projection>> all_projections() {
  std::vector<std::unique_ptr<Projection>> all;
  all.push_back(make_customer_history());
  all.push_back(make_accounts());
  all.push_back(make_contacts());
  all.push_back(make_leads());
  all.push_back(make_activities());
  all.push_back(make_appointments());
  all.push_back(make_tasks());
  all.push_back(make_opportunities());
  all.push_back(make_pipeline());
  all.push_back(make_sales_dashboard());
  all.push_back(make_account_360());
  all.push_back(make_quotes());
  all.push_back(make_orders());
  all.push_back(make_contracts());
  all.push_back(make_campaigns());
  all.push_back(make_campaign_roi());
  all.push_back(make_products());
  all.push_back(make_warehouses());
  all.push_back(make_inventory());
  all.push_back(make_vouchers());
  all.push_back(make_payments());
  all.push_back(make_users());
  return all;
}

std::unique_ptr<Projection> make_projection(std::string_view name) {
  for (auto& p : all_projections()) {
    if (p->name() == name)
      return std::move(p);
  }
  return nullptr;
}

}  // namespace eventcrm::projections
