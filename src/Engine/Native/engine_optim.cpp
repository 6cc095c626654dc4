// Losses, optimizers and their serialization.
#include "engine_internal.h"

#include <cstdlib>
#include <cstring>
#include <sstream>

using namespace mo;

namespace mo {

void to_bytes(const std::function<void(torch::serialize::OutputArchive&)>& write, uint8_t** buffer, int64_t* length) {
    require(buffer, "buffer");
    require(length, "length");
    torch::serialize::OutputArchive archive;
    write(archive);
    std::ostringstream stream(std::ios::binary);
    archive.save_to(stream);
    std::string bytes = stream.str();
    auto* copy = static_cast<uint8_t*>(std::malloc(bytes.size() == 0 ? 1 : bytes.size()));
    if (copy == nullptr) throw std::bad_alloc();
    std::memcpy(copy, bytes.data(), bytes.size());
    *buffer = copy;
    *length = static_cast<int64_t>(bytes.size());
}

torch::serialize::InputArchive from_bytes(const uint8_t* buffer, int64_t length, c10::optional<c10::Device> device) {
    if (buffer == nullptr || length <= 0) throw invalid_argument_error("empty archive");
    std::istringstream stream(std::string(reinterpret_cast<const char*>(buffer), static_cast<size_t>(length)), std::ios::binary);
    torch::serialize::InputArchive archive;
    archive.load_from(stream, device);
    return archive;
}

}  // namespace mo

namespace {

std::vector<at::Tensor> collect(const mo_tensor* params, int64_t count) {
    if (count < 0 || (count > 0 && params == nullptr)) throw invalid_argument_error("invalid parameter list");
    std::vector<at::Tensor> list;
    list.reserve(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) list.push_back(require(params[i], "parameter")->tensor);
    return list;
}

// Each loss's options type has its own reduction variant, so the mapping is a template.
template <typename Options>
Options& with_reduction(Options& options, int32_t reduction) {
    switch (reduction) {
        case 0: options.reduction(torch::kNone); break;
        case 1: options.reduction(torch::kMean); break;
        case 2: options.reduction(torch::kSum); break;
        default: throw invalid_argument_error("reduction " + std::to_string(reduction) + " is not valid for this loss (expected none, mean or sum)");
    }
    return options;
}

}  // namespace

extern "C" {

mo_status mo_cross_entropy(mo_tensor logits, mo_tensor target, mo_tensor weight, double label_smoothing, int32_t reduction, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        namespace F = torch::nn::functional;
        auto options = F::CrossEntropyFuncOptions().label_smoothing(label_smoothing);
        if (weight != nullptr) options.weight(weight->tensor);
        with_reduction(options, reduction);
        *out = wrap(F::cross_entropy(require(logits, "logits")->tensor, require(target, "target")->tensor, options));
    });
}

mo_status mo_bce_with_logits(mo_tensor logits, mo_tensor target, mo_tensor pos_weight, int32_t reduction, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        namespace F = torch::nn::functional;
        auto options = F::BinaryCrossEntropyWithLogitsFuncOptions();
        if (pos_weight != nullptr) options.pos_weight(pos_weight->tensor);
        with_reduction(options, reduction);
        *out = wrap(F::binary_cross_entropy_with_logits(require(logits, "logits")->tensor, require(target, "target")->tensor, options));
    });
}

mo_status mo_mse_loss(mo_tensor input, mo_tensor target, int32_t reduction, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        namespace F = torch::nn::functional;
        auto options = F::MSELossFuncOptions();
        with_reduction(options, reduction);
        *out = wrap(F::mse_loss(require(input, "input")->tensor, require(target, "target")->tensor, options));
    });
}

mo_status mo_l1_loss(mo_tensor input, mo_tensor target, int32_t reduction, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        namespace F = torch::nn::functional;
        auto options = F::L1LossFuncOptions();
        with_reduction(options, reduction);
        *out = wrap(F::l1_loss(require(input, "input")->tensor, require(target, "target")->tensor, options));
    });
}

mo_status mo_kl_div(mo_tensor input, mo_tensor target, int32_t log_target, int32_t reduction, mo_tensor* out) {
    return guard([&] {
        require(out, "out");
        namespace F = torch::nn::functional;
        auto options = F::KLDivFuncOptions().log_target(log_target != 0);
        if (reduction == 3) options.reduction(torch::kBatchMean);
        else with_reduction(options, reduction);
        *out = wrap(F::kl_div(require(input, "input")->tensor, require(target, "target")->tensor, options));
    });
}

void mo_optimizer_free(mo_optimizer o) { delete o; }

mo_status mo_adam_new(const mo_tensor* params, int64_t count, double lr, double beta1, double beta2, double eps, double weight_decay, mo_optimizer* out) {
    return guard([&] {
        require(out, "out");
        auto options = torch::optim::AdamOptions(lr).betas({beta1, beta2}).eps(eps).weight_decay(weight_decay);
        *out = new mo_optimizer_s{std::make_unique<torch::optim::Adam>(collect(params, count), options)};
    });
}

mo_status mo_adamw_new(const mo_tensor* params, int64_t count, double lr, double beta1, double beta2, double eps, double weight_decay, mo_optimizer* out) {
    return guard([&] {
        require(out, "out");
        auto options = torch::optim::AdamWOptions(lr).betas({beta1, beta2}).eps(eps).weight_decay(weight_decay);
        *out = new mo_optimizer_s{std::make_unique<torch::optim::AdamW>(collect(params, count), options)};
    });
}

mo_status mo_sgd_new(const mo_tensor* params, int64_t count, double lr, double momentum, double weight_decay, int32_t nesterov, mo_optimizer* out) {
    return guard([&] {
        require(out, "out");
        auto options = torch::optim::SGDOptions(lr).momentum(momentum).weight_decay(weight_decay).nesterov(nesterov != 0);
        *out = new mo_optimizer_s{std::make_unique<torch::optim::SGD>(collect(params, count), options)};
    });
}

mo_status mo_optimizer_step(mo_optimizer o) {
    return guard([&] { require(o, "optimizer")->optimizer->step(); });
}

mo_status mo_optimizer_zero_grad(mo_optimizer o) {
    // libtorch 1.13's zero_grad() memsets every gradient; dropping them instead saves that pass and
    // lets the next backward assign rather than accumulate (PyTorch's default since 2.0).
    return guard([&] {
        for (auto& group : require(o, "optimizer")->optimizer->param_groups())
            for (auto& p : group.params())
                if (p.grad().defined()) p.mutable_grad().reset();
    });
}

mo_status mo_optimizer_set_lr(mo_optimizer o, double lr) {
    return guard([&] {
        for (auto& group : require(o, "optimizer")->optimizer->param_groups()) group.options().set_lr(lr);
    });
}

mo_status mo_optimizer_get_lr(mo_optimizer o, double* lr) {
    return guard([&] {
        require(lr, "lr");
        auto& groups = require(o, "optimizer")->optimizer->param_groups();
        if (groups.empty()) throw invalid_argument_error("optimizer has no parameter groups");
        *lr = groups.front().options().get_lr();
    });
}

mo_status mo_optimizer_save(mo_optimizer o, uint8_t** buffer, int64_t* length) {
    return guard([&] {
        auto& optimizer = *require(o, "optimizer")->optimizer;
        to_bytes([&](torch::serialize::OutputArchive& a) { optimizer.save(a); }, buffer, length);
    });
}

mo_status mo_optimizer_load(mo_optimizer o, const uint8_t* buffer, int64_t length) {
    return guard([&] {
        auto& optimizer = *require(o, "optimizer")->optimizer;
        c10::optional<c10::Device> device;
        if (!optimizer.param_groups().empty() && !optimizer.param_groups().front().params().empty())
            device = optimizer.param_groups().front().params().front().device();
        auto archive = from_bytes(buffer, length, device);
        optimizer.load(archive);
    });
}

mo_status mo_clip_grad_norm(const mo_tensor* params, int64_t count, double max_norm, double norm_type, double* total_norm) {
    return guard([&] {
        require(total_norm, "total_norm");
        *total_norm = torch::nn::utils::clip_grad_norm_(collect(params, count), max_norm, norm_type);
    });
}

}  // extern "C"
