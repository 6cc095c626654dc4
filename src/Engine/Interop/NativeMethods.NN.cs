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
}
