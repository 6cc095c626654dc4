// nn modules, optimizers and their serialization.
#include "engine_internal.h"

#include <cstdlib>
#include <cstring>
#include <sstream>

using namespace mo;

namespace {

template <typename Holder>
mo_module make_leaf(Holder holder) {
    auto* m = new mo_module_s();
    m->module = holder.ptr();
    m->any = torch::nn::AnyModule(holder);
    m->forward = [holder](const at::Tensor& x) mutable { return holder->forward(x); };
    return m;
}

c10::optional<c10::Device> device_of(const torch::nn::Module& module) {
    auto params = module.parameters();
    if (params.empty()) return c10::nullopt;
    return params.front().device();
}

}  // namespace

extern "C" {

void mo_module_free(mo_module m) { delete m; }

mo_status mo_linear_new(int64_t in_features, int64_t out_features, int32_t bias, mo_module* out) {
    return guard([&] {
        *require(out, "out") = make_leaf(torch::nn::Linear(torch::nn::LinearOptions(in_features, out_features).bias(bias != 0)));
    });
}

mo_status mo_conv2d_new(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, int64_t padding, int32_t bias, mo_module* out) {
    return guard([&] {
        auto options = torch::nn::Conv2dOptions(in_channels, out_channels, kernel).stride(stride).padding(padding).bias(bias != 0);
        *require(out, "out") = make_leaf(torch::nn::Conv2d(options));
    });
}

mo_status mo_maxpool2d_new(int64_t kernel, int64_t stride, mo_module* out) {
    return guard([&] { *require(out, "out") = make_leaf(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(kernel).stride(stride))); });
}

mo_status mo_relu_new(mo_module* out) {
    return guard([&] { *require(out, "out") = make_leaf(torch::nn::ReLU()); });
}

mo_status mo_flatten_new(int64_t start_dim, int64_t end_dim, mo_module* out) {
    return guard([&] { *require(out, "out") = make_leaf(torch::nn::Flatten(torch::nn::FlattenOptions().start_dim(start_dim).end_dim(end_dim))); });
}

mo_status mo_dropout_new(double p, mo_module* out) {
    return guard([&] {
        if (p < 0.0 || p > 1.0) throw invalid_argument_error("dropout probability must be in [0, 1]");
        *require(out, "out") = make_leaf(torch::nn::Dropout(torch::nn::DropoutOptions(p)));
    });
}

mo_status mo_batchnorm1d_new(int64_t features, mo_module* out) {
    return guard([&] { *require(out, "out") = make_leaf(torch::nn::BatchNorm1d(features)); });
}

mo_status mo_batchnorm2d_new(int64_t features, mo_module* out) {
    return guard([&] { *require(out, "out") = make_leaf(torch::nn::BatchNorm2d(features)); });
}

mo_status mo_sequential_new(mo_module* out) {
    return guard([&] {
        require(out, "out");
        auto* m = new mo_module_s();
        torch::nn::Sequential seq;
        m->module = seq.ptr();
        m->sequential = seq;
        m->forward = [seq](const at::Tensor& x) mutable { return seq->forward(x); };
        *out = m;
    });
}

mo_status mo_sequential_push(mo_module seq, mo_module child) {
    return guard([&] {
        require(seq, "seq");
        require(child, "child");
        if (seq->sequential.is_empty()) throw invalid_argument_error("target module is not a Sequential");
        if (child->any.is_empty()) throw invalid_argument_error("a Sequential cannot be nested in a Sequential");
        seq->sequential->push_back(child->any);
    });
}

mo_status mo_module_forward(mo_module m, mo_tensor input, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        *out = wrap(require(m, "module")->forward(require(input, "input")->tensor));
    });
}

mo_status mo_module_train(mo_module m, int32_t training) {
    return guard([&] { require(m, "module")->module->train(training != 0); });
}

mo_status mo_module_is_training(mo_module m, int32_t* training) {
    return guard([&] { *require(training, "training") = require(m, "module")->module->is_training() ? 1 : 0; });
}

mo_status mo_module_to(mo_module m, int32_t device_type, int32_t device_index) {
    return guard([&] { require(m, "module")->module->to(to_device(device_type, device_index)); });
}

mo_status mo_module_parameters(mo_module m, mo_tensor* out, int64_t capacity, int64_t* count) {
    return guard([&] {
        auto params = require(m, "module")->module->parameters();
        *require(count, "count") = static_cast<int64_t>(params.size());
        if (out == nullptr) return;
        int64_t n = std::min<int64_t>(capacity, static_cast<int64_t>(params.size()));
        for (int64_t i = 0; i < n; ++i) out[i] = wrap(params[static_cast<size_t>(i)]);
    });
}

mo_status mo_module_save(mo_module m, uint8_t** buffer, int64_t* length) {
    return guard([&] {
        auto& module = *require(m, "module")->module;
        to_bytes([&](torch::serialize::OutputArchive& a) { module.save(a); }, buffer, length);
    });
}

mo_status mo_module_load(mo_module m, const uint8_t* buffer, int64_t length) {
    return guard([&] {
        auto& module = *require(m, "module")->module;
        auto archive = from_bytes(buffer, length, device_of(module));
        module.load(archive);
    });
}

}  // extern "C"
