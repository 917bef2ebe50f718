# Writes nvmfctl's bash completion (OUT) from its template (IN): the RPC method names are what
# `NVMFD --rpc-methods` prints (the daemon's own method table), COMMANDS are nvmfctl's own.
execute_process(COMMAND ${NVMFD} --rpc-methods OUTPUT_VARIABLE methods RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR methods STREQUAL "")
  message(FATAL_ERROR "${NVMFD} --rpc-methods failed (${rc})")
endif()
string(STRIP "${methods}" methods)
string(REPLACE "\n" " " NVMFCTL_RPC_METHODS "${methods}")
string(REPLACE ";" " " NVMFCTL_COMMANDS "${COMMANDS}")
configure_file(${IN} ${OUT} @ONLY)
