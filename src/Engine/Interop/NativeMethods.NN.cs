using System.Runtime.InteropServices;

namespace ModelOps.Engine.Interop;

internal static partial class NativeMethods
{
    // modules
    [LibraryImport(Library)] internal static partial void mo_module_free(IntPtr m);
    [LibraryImport(Library)] internal static partial int mo_linear_new(long inFeatures, long outFeatures, int bias, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_conv2d_new(long inChannels, long outChannels, long kernel, long stride, long padding, int bias, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_maxpool2d_new(long kernel, long stride, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_relu_new(out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_flatten_new(long startDim, long endDim, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_dropout_new(double p, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_batchnorm1d_new(long features, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_batchnorm2d_new(long features, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_sequential_new(out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_sequential_push(NativeModuleHandle seq, NativeModuleHandle child);
    [LibraryImport(Library)] internal static partial int mo_module_forward(NativeModuleHandle m, TensorHandle input, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_module_train(NativeModuleHandle m, int training);
    [LibraryImport(Library)] internal static partial int mo_module_is_training(NativeModuleHandle m, out int training);
    [LibraryImport(Library)] internal static partial int mo_module_to(NativeModuleHandle m, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static unsafe partial int mo_module_parameters(NativeModuleHandle m, IntPtr* result, long capacity, out long count);
    [LibraryImport(Library)] internal static partial int mo_module_save(NativeModuleHandle m, out IntPtr buffer, out long length);
    [LibraryImport(Library)] internal static unsafe partial int mo_module_load(NativeModuleHandle m, byte* buffer, long length);

    // optimizers
    [LibraryImport(Library)] internal static partial void mo_optimizer_free(IntPtr o);
    [LibraryImport(Library)] internal static unsafe partial int mo_adam_new(IntPtr* parameters, long count, double lr, double beta1, double beta2, double eps, double weightDecay, out OptimizerHandle result);
    [LibraryImport(Library)] internal static unsafe partial int mo_sgd_new(IntPtr* parameters, long count, double lr, double momentum, double weightDecay, int nesterov, out OptimizerHandle result);
    [LibraryImport(Library)] internal static partial int mo_optimizer_step(OptimizerHandle o);
    [LibraryImport(Library)] internal static partial int mo_optimizer_zero_grad(OptimizerHandle o);
    [LibraryImport(Library)] internal static partial int mo_optimizer_set_lr(OptimizerHandle o, double lr);
    [LibraryImport(Library)] internal static partial int mo_optimizer_save(OptimizerHandle o, out IntPtr buffer, out long length);
    [LibraryImport(Library)] internal static unsafe partial int mo_optimizer_load(OptimizerHandle o, byte* buffer, long length);
}
