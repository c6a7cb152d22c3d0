# Every third-party dependency is found here, once. Modules link what they use PRIVATE.
find_package(Threads REQUIRED)
find_package(RocksDB REQUIRED CONFIG)
find_package(simdjson REQUIRED CONFIG)
find_package(OpenSSL REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG)
find_package(CLI11 REQUIRED CONFIG)
find_package(spdlog REQUIRED CONFIG)
find_package(PkgConfig REQUIRED)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
if(NOT EVENTCRM_SANITIZE)
  find_package(mimalloc REQUIRED CONFIG)
endif()
if(EVENTCRM_TESTS)
  find_package(GTest REQUIRED)
endif()

# Normalised target names used by the modules.
add_library(dep::rocksdb INTERFACE IMPORTED)
# Linked statically: RocksDB's hot paths (memtable comparisons) read thread-locals, which in the
# shared library go through __tls_get_addr on every access (~10% of the store writer's time).
target_link_libraries(dep::rocksdb INTERFACE RocksDB::rocksdb)
add_library(dep::simdjson INTERFACE IMPORTED)
target_link_libraries(dep::simdjson INTERFACE simdjson::simdjson)
add_library(dep::crypto INTERFACE IMPORTED)
target_link_libraries(dep::crypto INTERFACE OpenSSL::Crypto)
add_library(dep::ssl INTERFACE IMPORTED)
target_link_libraries(dep::ssl INTERFACE OpenSSL::SSL OpenSSL::Crypto)
add_library(dep::beast INTERFACE IMPORTED)
target_link_libraries(dep::beast INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(dep::beast INTERFACE BOOST_BEAST_SEPARATE_COMPILATION BOOST_ASIO_SEPARATE_COMPILATION
                                                BOOST_ASIO_NO_DEPRECATED)
add_library(dep::cli11 INTERFACE IMPORTED)
target_link_libraries(dep::cli11 INTERFACE CLI11::CLI11)
add_library(dep::spdlog INTERFACE IMPORTED)
target_link_libraries(dep::spdlog INTERFACE spdlog::spdlog)
add_library(dep::rdkafka INTERFACE IMPORTED)
target_link_libraries(dep::rdkafka INTERFACE PkgConfig::RDKAFKA)
# The executable's allocator (not under the sanitizers, which bring their own): the read models
# and the HTTP path allocate many small strings; glibc's malloc was ~20% of a rebuild's time.
add_library(dep::malloc INTERFACE IMPORTED)
if(NOT EVENTCRM_SANITIZE)
  target_link_libraries(dep::malloc INTERFACE mimalloc)
endif()
