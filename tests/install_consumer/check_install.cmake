# ctest driver: install the build tree into a scratch prefix, then configure, build and run the
# consumer project against it with find_package(aisle).
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
execute_process(COMMAND ${CMAKE_COMMAND} --install ${AISLE_BUILD_DIR} --prefix ${prefix}
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${AISLE_SOURCE_DIR}/tests/install_consumer
                        -B ${WORK_DIR}/build -G ${CMAKE_GENERATOR} -DCMAKE_PREFIX_PATH=${prefix}
                        -DCMAKE_BUILD_TYPE=Release
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer with find_package(aisle) failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed (${rc})")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer ran but its model did not fit (${rc})")
endif()
if(NOT EXISTS ${prefix}/bin/aisle)
  message(FATAL_ERROR "the aisle CLI was not installed into ${prefix}/bin")
endif()
