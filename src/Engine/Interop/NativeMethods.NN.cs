using System.Runtime.InteropServices;

namespace ModelOps.Engine.Interop;

internal static partial class NativeMethods
{
    // leaf modules
    [LibraryImport(Library)] internal static partial void mo_module_free(IntPtr m);
    [LibraryImport(Library)] internal static partial int mo_linear_new(long inFeatures, long outFeatures, int bias, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_conv1d_new(long inChannels, long outChannels, long kernel, long stride, long padding, int bias, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_conv2d_new(long inChannels, long outChannels, long kernel, long stride, long padding, int bias, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_maxpool2d_new(long kernel, long stride, long padding, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_avgpool2d_new(long kernel, long stride, long padding, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_adaptive_avgpool2d_new(long outH, long outW, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_batchnorm1d_new(long features, double eps, double momentum, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_batchnorm2d_new(long features, double eps, double momentum, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static unsafe partial int mo_layernorm_new(long* shape, int ndim, double eps, int affine, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_dropout_new(double p, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_embedding_new(long numEmbeddings, long embeddingDim, int hasPadding, long paddingIdx, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_lstm_new(long inputSize, long hiddenSize, long numLayers, int bidirectional, int batchFirst, double dropout, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_gru_new(long inputSize, long hiddenSize, long numLayers, int bidirectional, int batchFirst, double dropout, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_flatten_new(long startDim, long endDim, out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_relu_new(out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_gelu_new(out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_tanh_new(out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_sigmoid_new(out NativeModuleHandle result);
    [LibraryImport(Library)] internal static partial int mo_softmax_new(long dim, out NativeModuleHandle result);

    // running and inspecting leaves
    [LibraryImport(Library)] internal static partial int mo_module_forward(NativeModuleHandle m, TensorHandle input, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_lstm_forward(NativeModuleHandle m, TensorHandle input, IntPtr h0, IntPtr c0, out TensorHandle output, out TensorHandle h, out TensorHandle c);
    [LibraryImport(Library)] internal static partial int mo_gru_forward(NativeModuleHandle m, TensorHandle input, IntPtr h0, out TensorHandle output, out TensorHandle h);
    [LibraryImport(Library)] internal static partial int mo_module_train(NativeModuleHandle m, int training);
    [LibraryImport(Library)] internal static partial int mo_module_to(NativeModuleHandle m, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static unsafe partial int mo_module_named_tensors(NativeModuleHandle m, int buffers, IntPtr* result, long capacity, out long count, out IntPtr names, out long namesLength);

    // tensor helpers for module state
    [LibraryImport(Library)] internal static partial int mo_nn_move_tensor(TensorHandle t, int deviceType, int deviceIndex);
    [LibraryImport(Library)] internal static unsafe partial int mo_nn_zero_grad(IntPtr* tensors, long count);
    [LibraryImport(Library)] internal static unsafe partial int mo_nn_copy_into(TensorHandle dst, void* data, int dtype, long count);
    [LibraryImport(Library)] internal static partial int mo_nn_copy_tensor(TensorHandle dst, TensorHandle src);
    [LibraryImport(Library)] internal static unsafe partial int mo_nn_read_bytes(TensorHandle t, void* dst, long length);
}
