# Generates a .cpp that holds the OpenAPI document: api/openapi.json (the base: info, shared
# components, the operational and event-log paths) merged with every fragment in api/openapi/
# (each an object with "paths", and optionally "tags" and "components"/"schemas"), so GET
# /openapi.json serves exactly what the repository describes. A path or schema defined twice is
# an error. Run with -DINPUT=<base json> -DFRAGMENTS=<dir> -DOUTPUT=<cpp> [-DMERGED=<json>].
file(READ "${INPUT}" doc)
file(GLOB fragments "${FRAGMENTS}/*.json")
list(SORT fragments)
foreach(fragment IN LISTS fragments)
  file(READ "${fragment}" part)
  foreach(section paths "components;schemas" "components;parameters" "components;responses")
    string(JSON n ERROR_VARIABLE missing LENGTH "${part}" ${section})
    if(missing OR n EQUAL 0)
      continue()
    endif()
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      string(JSON key MEMBER "${part}" ${section} ${i})
      string(JSON value GET "${part}" ${section} "${key}")
      string(JSON existing ERROR_VARIABLE absent GET "${doc}" ${section} "${key}")
      if(NOT absent)
        message(FATAL_ERROR "${fragment}: ${section} ${key} is already defined")
      endif()
      string(JSON doc SET "${doc}" ${section} "${key}" "${value}")
    endforeach()
  endforeach()
  string(JSON n ERROR_VARIABLE missing LENGTH "${part}" tags)
  if(NOT missing AND n GREATER 0)
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      string(JSON tag GET "${part}" tags ${i})
      string(JSON count LENGTH "${doc}" tags)
      string(JSON doc SET "${doc}" tags ${count} "${tag}")
    endforeach()
  endif()
endforeach()
if(MERGED)
  file(WRITE "${MERGED}.tmp" "${doc}")
  file(COPY_FILE "${MERGED}.tmp" "${MERGED}" ONLY_IF_DIFFERENT)
  file(REMOVE "${MERGED}.tmp")
endif()
string(HEX "${doc}" content)
string(LENGTH "${content}" hex_len)
math(EXPR byte_len "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from api/openapi.json and api/openapi/*.json by api/embed_openapi.cmake.\n"
  "#include \"api/openapi_doc.hpp\"\n"
  "namespace eventcrm::api {\n"
  "namespace { constexpr unsigned char kDoc[] = {${bytes} 0}; }\n"
  "std::string_view openapi_json() noexcept { return {reinterpret_cast<const char*>(kDoc), ${byte_len}}; }\n"
  "}  // namespace eventcrm::api\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
