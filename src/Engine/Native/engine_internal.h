// Internal to the shim: handle layouts and the exception guard shared by both translation units.
#pragma once
#include <torch/torch.h>
#include <functional>
#include <string>
#include "modelops_engine.h"

struct mo_tensor_s {
    at::Tensor tensor;
};

struct mo_module_s {
    std::shared_ptr<torch::nn::Module> module;
    std::function<at::Tensor(const at::Tensor&)> forward;
};

struct mo_optimizer_s {
    std::unique_ptr<torch::optim::Optimizer> optimizer;
};

namespace mo {

struct invalid_argument_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void set_last_error(const std::string& message);
mo_status classify_torch_error(const c10::Error& e);

inline mo_tensor wrap(at::Tensor t) { return new mo_tensor_s{std::move(t)}; }

template <typename T>
T* require(T* handle, const char* name) {
    if (handle == nullptr) throw invalid_argument_error(std::string(name) + " is null");
    return handle;
}

at::ScalarType to_scalar_type(int32_t dtype);
int32_t from_scalar_type(at::ScalarType t);
c10::Device to_device(int32_t device_type, int32_t device_index);

// libtorch archives to and from malloc'd byte buffers (engine_optim.cpp).
void to_bytes(const std::function<void(torch::serialize::OutputArchive&)>& write, uint8_t** buffer, int64_t* length);
torch::serialize::InputArchive from_bytes(const uint8_t* buffer, int64_t length, c10::optional<c10::Device> device);

// Runs body, turning every exception into a status plus the thread's last error message.
template <typename F>
mo_status guard(F&& body) {
    try {
        body();
        return MO_OK;
    } catch (const c10::OutOfMemoryError& e) {
        set_last_error(e.what_without_backtrace());
        return MO_ERR_OUT_OF_MEMORY;
    } catch (const c10::Error& e) {
        set_last_error(e.what_without_backtrace());
        return classify_torch_error(e);
    } catch (const std::bad_alloc& e) {
        set_last_error(std::string("out of memory: ") + e.what());
        return MO_ERR_OUT_OF_MEMORY;
    } catch (const invalid_argument_error& e) {
        set_last_error(e.what());
        return MO_ERR_INVALID_ARGUMENT;
    } catch (const std::invalid_argument& e) {
        set_last_error(e.what());
        return MO_ERR_INVALID_ARGUMENT;
    } catch (const std::out_of_range& e) {
        set_last_error(e.what());
        return MO_ERR_INVALID_ARGUMENT;
    } catch (const std::exception& e) {
        set_last_error(e.what());
        return MO_ERR_GENERIC;
    } catch (...) {
        set_last_error("unknown native exception");
        return MO_ERR_GENERIC;
    }
}

}  // namespace mo
