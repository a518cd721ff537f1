#pragma once
#include <string>
#include <string_view>

namespace aisle {

enum class DeviceType : uint8_t { cpu, cuda };

// Where a tensor lives: the host ("cpu") or one CUDA GPU ("cuda:N").
struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static constexpr Device cpu() { return {DeviceType::cpu, 0}; }
  static constexpr Device cuda(int index = 0) { return {DeviceType::cuda, index}; }
  // "cpu", "cuda", "cuda:1"; throws aisle::Error naming the text otherwise.
  static Device parse(std::string_view text);

  constexpr bool is_cpu() const { return type == DeviceType::cpu; }
  constexpr bool is_cuda() const { return type == DeviceType::cuda; }
  std::string str() const;
  friend constexpr bool operator==(const Device&, const Device&) = default;
};

}  // namespace aisle
