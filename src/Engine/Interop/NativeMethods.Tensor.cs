using System.Runtime.InteropServices;

namespace ModelOps.Engine.Interop;

internal static partial class NativeMethods
{
    // creation, inspection, data
    [LibraryImport(Library)] internal static partial void mo_tensor_free(IntPtr t);
    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_from_data(void* data, int dtype, long* shape, int ndim, out TensorHandle result);
    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_fill_new(int kind, int dtype, long* shape, int ndim, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_dim(TensorHandle t, out int ndim);
    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_shape(TensorHandle t, long* shape);
    [LibraryImport(Library)] internal static partial int mo_tensor_dtype(TensorHandle t, out int dtype);
    [LibraryImport(Library)] internal static partial int mo_tensor_device(TensorHandle t, out int deviceType, out int deviceIndex);
    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_copy_to(TensorHandle t, void* dst, long count, int dtype);
    [LibraryImport(Library)] internal static partial int mo_tensor_item(TensorHandle t, out double value);
    [LibraryImport(Library)] internal static partial int mo_tensor_to(TensorHandle t, int deviceType, int deviceIndex, int dtype, out TensorHandle result);

    // arithmetic and reductions
    [LibraryImport(Library)] internal static partial int mo_tensor_add(TensorHandle a, TensorHandle b, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_sub(TensorHandle a, TensorHandle b, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_mul(TensorHandle a, TensorHandle b, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_div(TensorHandle a, TensorHandle b, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_matmul(TensorHandle a, TensorHandle b, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_eq(TensorHandle a, TensorHandle b, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_add_scalar(TensorHandle a, double s, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_mul_scalar(TensorHandle a, double s, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_relu(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_exp(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_log(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_softmax(TensorHandle a, long dim, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_log_softmax(TensorHandle a, long dim, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_argmax(TensorHandle a, long dim, int keepdim, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_sum(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_mean(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_reshape(TensorHandle a, long* shape, int ndim, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_index_select(TensorHandle a, long dim, TensorHandle index, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_detach(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_clone(TensorHandle a, out TensorHandle result);

    // autograd
    [LibraryImport(Library)] internal static partial int mo_tensor_requires_grad(TensorHandle t, out int requiresGrad);
    [LibraryImport(Library)] internal static partial int mo_tensor_set_requires_grad(TensorHandle t, int requiresGrad);
    [LibraryImport(Library)] internal static partial int mo_tensor_backward(TensorHandle t);
    [LibraryImport(Library)] internal static partial int mo_tensor_grad(TensorHandle t, out IntPtr result);
}
