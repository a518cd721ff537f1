# ctest driver for CLI behaviour: runs COMMAND (a ;-list), checks its exit code is EXIT and, if
# given, that its combined output contains CONTAINS.
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc STREQUAL EXIT)
  message(FATAL_ERROR "expected exit ${EXIT}, got ${rc}\n${out}${err}")
endif()
if(DEFINED CONTAINS AND NOT "${out}${err}" MATCHES "${CONTAINS}")
  message(FATAL_ERROR "output does not contain '${CONTAINS}':\n${out}${err}")
endif()
