#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "aisle/io/safetensors.hpp"
#include "src/io/safetensors_format.hpp"

namespace aisle::io {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian, mapped in place");

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

std::string range(const Entry& e) { return aisle::detail::concat("[", e.begin, ", ", e.end, "]"); }

// The whole file, mapped private copy-on-write; unmapped when the last tensor over it dies.
std::shared_ptr<void> map_whole_file(const fs::path& path, size_t& size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  AISLE_ARTIFACT_CHECK(fd >= 0, path.string(), ": cannot open: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    AISLE_ARTIFACT_FAIL(path.string(), ": cannot stat: ", std::strerror(err));
  }
  size = static_cast<size_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    AISLE_ARTIFACT_FAIL(path.string(), ": not a safetensors file: ", size,
                        " bytes is shorter than the 8-byte header length field");
  }
  void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const int err = errno;
  ::close(fd);
  AISLE_ARTIFACT_CHECK(addr != MAP_FAILED, path.string(), ": cannot map ", size, " bytes: ", std::strerror(err));
  return std::shared_ptr<void>(addr, [size](void* p) { ::munmap(p, size); });
}

// nlohmann::json keeps the last of duplicate keys silently; the format forbids duplicates, and a
// second entry for a name is exactly the kind of corruption a reader must not paper over.
json parse_header(const char* text, size_t n, const std::string& where) {
  // nlohmann stops at a NUL byte as if the input ended there; JSON text never contains one raw.
  if (const void* nul = std::memchr(text, 0, n))
    AISLE_ARTIFACT_FAIL(where, ": the header is not valid JSON: NUL byte at header offset ",
                        static_cast<const char*>(nul) - text);
  std::vector<std::set<std::string>> open_objects;
  auto reject_duplicates = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) open_objects.emplace_back();
    if (event == json::parse_event_t::object_end) open_objects.pop_back();
    if (event == json::parse_event_t::key && !open_objects.back().insert(parsed.get<std::string>()).second)
      AISLE_ARTIFACT_FAIL(where, ": the header names '", parsed.get<std::string>(), "' twice");
    return true;
  };
  try {
    return json::parse(text, text + n, reject_duplicates);
  } catch (const json::parse_error& e) {
    AISLE_ARTIFACT_FAIL(where, ": the header is not valid JSON: ", e.what());
  }
}

uint64_t unsigned_field(const json& v, const std::string& where, const std::string& what) {
  AISLE_ARTIFACT_CHECK(v.is_number_unsigned(), where, ": ", what, " must be a non-negative integer, got ", v.dump());
  return v.get<uint64_t>();
}

Entry parse_entry(const std::string& name, const json& info, const std::string& where) {
  const std::string tensor = "tensor '" + name + "'";
  AISLE_ARTIFACT_CHECK(info.is_object(), where, ": ", tensor, ": expected an object with dtype, shape and "
                       "data_offsets, got ", info.dump());
  for (const char* key : {"dtype", "shape", "data_offsets"})
    AISLE_ARTIFACT_CHECK(info.contains(key), where, ": ", tensor, " has no '", key, "'");
  Entry e{name, DType::u8, {}, 0, 0};
  const json& dtype = info["dtype"];
  AISLE_ARTIFACT_CHECK(dtype.is_string(), where, ": ", tensor, ": dtype must be a string, got ", dtype.dump());
  const std::optional<DType> t = detail::parse_safetensors_dtype(dtype.get<std::string>());
  AISLE_ARTIFACT_CHECK(t.has_value(), where, ": ", tensor, " has dtype ", dtype.dump(),
                       ", which Aisle does not support (F32, F64, BF16, F16, I32, I64, U8)");
  e.dtype = *t;
  const json& shape = info["shape"];
  AISLE_ARTIFACT_CHECK(shape.is_array(), where, ": ", tensor, ": shape must be an array, got ", shape.dump());
  // Element and byte counts are checked for overflow: a crafted shape must not wrap around to
  // match a small byte range.
  uint64_t bytes = dtype_size(e.dtype);
  bool overflow = false;
  for (const json& d : shape) {
    const uint64_t dim = unsigned_field(d, where, tensor + ": a shape dimension");
    overflow = overflow || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
               (dim != 0 && bytes > std::numeric_limits<uint64_t>::max() / dim);
    if (!overflow) bytes *= dim;
    e.shape.push_back(static_cast<int64_t>(dim));
  }
  const json& offsets = info["data_offsets"];
  AISLE_ARTIFACT_CHECK(offsets.is_array() && offsets.size() == 2, where, ": ", tensor,
                       ": data_offsets must be [BEGIN, END], got ", offsets.dump());
  e.begin = unsigned_field(offsets[0], where, tensor + ": data_offsets[0]");
  e.end = unsigned_field(offsets[1], where, tensor + ": data_offsets[1]");
  AISLE_ARTIFACT_CHECK(e.begin <= e.end, where, ": ", tensor, ": data_offsets ", range(e), " end before they begin");
  AISLE_ARTIFACT_CHECK(!overflow, where, ": ", tensor, ": shape ", shape.dump(), " overflows a 64-bit byte count");
  AISLE_ARTIFACT_CHECK(e.end - e.begin == bytes, where, ": ", tensor, ": data_offsets ", range(e), " hold ",
                       e.end - e.begin, " bytes, but ", dtype.get<std::string>(), " ", shape.dump(), " needs ", bytes);
  return e;
}

}  // namespace

SafetensorsContents read_safetensors(const fs::path& path) {
  const std::string where = path.string();
  size_t size = 0;
  const std::shared_ptr<void> mapping = map_whole_file(path, size);
  char* base = static_cast<char*>(mapping.get());
  uint64_t n = 0;
  std::memcpy(&n, base, sizeof n);
  AISLE_ARTIFACT_CHECK(n <= detail::kMaxSafetensorsHeader, where, ": header length ", n, " exceeds the ",
                       detail::kMaxSafetensorsHeader, "-byte limit (not a safetensors file, or corrupted)");
  AISLE_ARTIFACT_CHECK(n <= size - 8, where, ": header length ", n, " runs past the end of the file (", size,
                       " bytes): truncated, or not a safetensors file");
  const json header = parse_header(base + 8, n, where);
  AISLE_ARTIFACT_CHECK(header.is_object(), where, ": the header must be a JSON object, got ", header.type_name());

  SafetensorsContents out;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == detail::kMetadataKey) {
      AISLE_ARTIFACT_CHECK(value.is_object(), where, ": __metadata__ must be an object of strings");
      for (const auto& [k, v] : value.items()) {
        AISLE_ARTIFACT_CHECK(v.is_string(), where, ": __metadata__ value of '", k, "' must be a string, got ", v.dump());
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(key, value, where));
  }

  // Header order carries no meaning (the reference sorts by offset too); the byte ranges must
  // tile the data section exactly: no overlaps, no gaps, nothing after the last tensor.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end != b.end ? a.end < b.end : a.name < b.name;
  });
  const uint64_t data_bytes = size - 8 - n;
  uint64_t position = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    AISLE_ARTIFACT_CHECK(e.begin >= position, where, ": tensor '", e.name, "' (data_offsets ", range(e),
                         ") overlaps tensor '", previous ? previous->name : "", "' (", previous ? range(*previous) : "",
                         ")");
    AISLE_ARTIFACT_CHECK(e.begin == position, where, ": ", e.begin - position, " unused bytes before tensor '", e.name,
                         "' (data_offsets ", range(e), "): tensors must be packed back to back");
    AISLE_ARTIFACT_CHECK(e.end <= data_bytes, where, ": tensor '", e.name, "' (data_offsets ", range(e),
                         ") runs past the end of the file: the data section has ", data_bytes,
                         " bytes (truncated?)");
    position = e.end;
    previous = &e;
  }
  AISLE_ARTIFACT_CHECK(position == data_bytes, where, ": ", data_bytes - position,
                       " trailing bytes after the last tensor (the data section has ", data_bytes,
                       " bytes, the tensors cover ", position, ")");

  for (const Entry& e : entries) {
    char* data = base + 8 + n + e.begin;
    Tensor t;
    if (e.end == e.begin)
      t = Tensor::empty(e.shape, e.dtype);
    else if (reinterpret_cast<uintptr_t>(data) % dtype_size(e.dtype) != 0)
      t = Tensor::from_host(data, e.shape, e.dtype);  // kernels need aligned elements
    else
      t = Tensor::from_external(data, e.shape, e.dtype, mapping);
    out.tensors.emplace(e.name, std::move(t));
    out.names.push_back(e.name);
  }
  return out;
}

}  // namespace aisle::io
