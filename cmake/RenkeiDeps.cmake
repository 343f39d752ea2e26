# Finds every dependency with pkg-config (http-parser by header and library: Debian ships no
# .pc for it). A missing one stops configuration with the Debian package that provides it.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

macro(renkei_require prefix module debian_package)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "dependency ${module} not found: apt-get install ${debian_package}")
  endif()
endmacro()

renkei_require(LIBEVENT libevent libevent-dev)
renkei_require(LIBEVENT_OPENSSL libevent_openssl libevent-dev)
renkei_require(OPENSSL openssl libssl-dev)
renkei_require(CJOSE cjose libcjose-dev)
renkei_require(JANSSON jansson libjansson-dev)
renkei_require(PROTOBUFC libprotobuf-c libprotobuf-c-dev)
renkei_require(NGHTTP2 libnghttp2 libnghttp2-dev)
renkei_require(LIBPQ libpq libpq-dev)
renkei_require(ARGON2 libargon2 libargon2-dev)
renkei_require(ICU_UC icu-uc libicu-dev)
if(RENKEI_TESTS)
  renkei_require(CMOCKA cmocka libcmocka-dev)
endif()

find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h)
find_library(HTTP_PARSER_LIBRARY http_parser)
if(NOT HTTP_PARSER_INCLUDE_DIR OR NOT HTTP_PARSER_LIBRARY)
  message(FATAL_ERROR "dependency http-parser not found: apt-get install libhttp-parser-dev")
endif()
add_library(HttpParser::HttpParser UNKNOWN IMPORTED)
set_target_properties(HttpParser::HttpParser PROPERTIES
  IMPORTED_LOCATION ${HTTP_PARSER_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${HTTP_PARSER_INCLUDE_DIR})

find_program(PROTOC_C NAMES protoc-c protoc-gen-c)
if(NOT PROTOC_C)
  message(FATAL_ERROR "protoc-c not found: apt-get install protobuf-c-compiler")
endif()
