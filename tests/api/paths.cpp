// Where the build put the files the API tests use; see eventcrm_bin() in harness.hpp.
#include "harness.hpp"

namespace eventcrm::test {

const char* eventcrm_bin() {
  return EVENTCRM_BIN;
}

const char* openapi_document() {
#ifdef EVENTCRM_OPENAPI
  return EVENTCRM_OPENAPI;
#else
  return "";
#endif
}

}  // namespace eventcrm::test
