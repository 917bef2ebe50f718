#pragma once
// Logging: spdlog's default logger. Use NVMFD_LOG_* on control paths and on errors;
// never on the per-I/O success path.
#include <spdlog/spdlog.h>

#define NVMFD_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define NVMFD_LOG_INFO(...) spdlog::info(__VA_ARGS__)
#define NVMFD_LOG_WARN(...) spdlog::warn(__VA_ARGS__)
#define NVMFD_LOG_ERROR(...) spdlog::error(__VA_ARGS__)
