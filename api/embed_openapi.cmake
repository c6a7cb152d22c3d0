# Generates a .cpp that holds api/openapi.json as a string, so GET /openapi.json serves exactly
# the file in the repository. Run with -DINPUT=<json> -DOUTPUT=<cpp>.
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" hex_len)
math(EXPR byte_len "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from api/openapi.json by api/embed_openapi.cmake. Do not edit.\n"
  "#include \"api/openapi_doc.hpp\"\n"
  "namespace eventcrm::api {\n"
  "namespace { constexpr unsigned char kDoc[] = {${bytes} 0}; }\n"
  "std::string_view openapi_json() noexcept { return {reinterpret_cast<const char*>(kDoc), ${byte_len}}; }\n"
  "}  // namespace eventcrm::api\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
