# Writes nvmfctl's bash completion (OUT) from its template (IN): the RPC method names are what
# `NVMFD --rpc-methods` prints (the daemon's own method table), COMMANDS are nvmfctl's own.
execute_process(COMMAND ${NVMFD} --rpc-methods OUTPUT_VARIABLE methods RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR methods STREQUAL "")
  message(FATAL_ERROR "${NVMFD} --rpc-methods failed (${rc})")
endif()
string(STRIP "${methods}" methods)
string(REPLACE "\n" ";" methods "${methods}")
foreach(m IN LISTS methods)  # anything else on stdout (a log line) is an error, not a method
  if(NOT m MATCHES "^[a-z0-9_]+$")
    message(FATAL_ERROR "${NVMFD} --rpc-methods printed '${m}', not a method name")
  endif()
endforeach()
string(REPLACE ";" " " NVMFCTL_RPC_METHODS "${methods}")
string(REPLACE ";" " " NVMFCTL_COMMANDS "${COMMANDS}")
configure_file(${IN} ${OUT} @ONLY)
