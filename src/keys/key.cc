#include "keys/key.h"

#include "keys/interchange.h"

namespace nvmfd::keys {

key::key(std::string name, std::string path, std::string material)
    : name_(std::move(name)), path_(std::move(path)), material_(std::move(material)) {}

key::~key() { wipe(material_.data(), material_.size()); }

}  // namespace nvmfd::keys
