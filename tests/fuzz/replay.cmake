# Corpus regression tests for the normal build (g++, no libFuzzer): each fuzz target is linked
# with replay_main.cc and run once over every file of tests/fuzz/corpus/<target> (the seeds
# and the minimized crash-* inputs of fixed bugs), then over `mutations` deterministic mutants
# of them (replay_main.cc --mutations: the fuzzing smoke of the test command; sized so that
# all targets together take seconds). Labels "unit;fuzz-replay".
# Included from tests/CMakeLists.txt:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay.cmake)
set(NVMFD_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})

function(nvmfd_fuzz_replay name mutations)
  add_executable(${name}_replay ${NVMFD_FUZZ_DIR}/replay_main.cc ${NVMFD_FUZZ_DIR}/${name}.cc)
  target_include_directories(${name}_replay PRIVATE ${NVMFD_FUZZ_DIR})
  target_link_libraries(${name}_replay PRIVATE ${ARGN})
  add_test(NAME fuzz_replay.${name} COMMAND ${name}_replay --mutations=${mutations} ${NVMFD_FUZZ_DIR}/corpus/${name})
  set_tests_properties(fuzz_replay.${name} PROPERTIES LABELS "unit;fuzz-replay" TIMEOUT 300)
endfunction()

nvmfd_fuzz_replay(fuzz_proto_decoders 5000 nvmfd_proto)
nvmfd_fuzz_replay(fuzz_pdu_reader 2000 nvmfd_nvme_tcp)
nvmfd_fuzz_replay(fuzz_target_connection 100 nvmfd_target_tcp)
nvmfd_fuzz_replay(fuzz_host_pdu 1000 nvmfd_host)
nvmfd_fuzz_replay(fuzz_auth_messages 2000 nvmfd_auth nvmfd_proto)
nvmfd_fuzz_replay(fuzz_key_formats 5000 nvmfd_keys nvmfd_proto)
nvmfd_fuzz_replay(fuzz_jsonrpc 300 nvmfd_rpc)
nvmfd_fuzz_replay(fuzz_config_loader 300 nvmfd_rpc)
# The live connection once more on epoll (the run above takes the default socket backend).
add_test(NAME fuzz_replay.fuzz_target_connection@epoll
         COMMAND fuzz_target_connection_replay ${NVMFD_FUZZ_DIR}/corpus/fuzz_target_connection)
set_tests_properties(fuzz_replay.fuzz_target_connection@epoll PROPERTIES LABELS "unit;fuzz-replay" TIMEOUT 300
                     ENVIRONMENT NVMFD_IO_BACKEND=epoll)

# The seed generator in the normal build too (the fuzz build has its own): fuzz_seed_gen OUTDIR.
add_executable(fuzz_seed_gen ${NVMFD_FUZZ_DIR}/gen_seeds.cc)
target_include_directories(fuzz_seed_gen PRIVATE ${NVMFD_FUZZ_DIR})
target_link_libraries(fuzz_seed_gen PRIVATE nvmfd_proto nvmfd_auth nvmfd_keys)
