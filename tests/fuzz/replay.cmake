# Corpus regression tests for the normal build (g++, no libFuzzer): each fuzz target is linked
# with replay_main.cc and run once over every file of tests/fuzz/corpus/<target> (the seeds
# and the minimized crash-* inputs of fixed bugs). Labels "unit;fuzz-replay".
# Included from tests/CMakeLists.txt:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay.cmake)
set(NVMFD_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})

function(nvmfd_fuzz_replay name)
  add_executable(${name}_replay ${NVMFD_FUZZ_DIR}/replay_main.cc ${NVMFD_FUZZ_DIR}/${name}.cc)
  target_include_directories(${name}_replay PRIVATE ${NVMFD_FUZZ_DIR})
  target_link_libraries(${name}_replay PRIVATE ${ARGN})
  add_test(NAME fuzz_replay.${name} COMMAND ${name}_replay ${NVMFD_FUZZ_DIR}/corpus/${name})
  set_tests_properties(fuzz_replay.${name} PROPERTIES LABELS "unit;fuzz-replay" TIMEOUT 300)
endfunction()

nvmfd_fuzz_replay(fuzz_proto_decoders nvmfd_proto)
nvmfd_fuzz_replay(fuzz_pdu_reader nvmfd_nvme_tcp)
nvmfd_fuzz_replay(fuzz_target_connection nvmfd_target_tcp)
nvmfd_fuzz_replay(fuzz_key_formats nvmfd_keys nvmfd_proto)
# The live connection once more on epoll (the run above takes the default socket backend).
add_test(NAME fuzz_replay.fuzz_target_connection@epoll
         COMMAND fuzz_target_connection_replay ${NVMFD_FUZZ_DIR}/corpus/fuzz_target_connection)
set_tests_properties(fuzz_replay.fuzz_target_connection@epoll PROPERTIES LABELS "unit;fuzz-replay" TIMEOUT 300
                     ENVIRONMENT NVMFD_IO_BACKEND=epoll)
