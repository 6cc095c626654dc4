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

    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_from_data_on(void* data, int dtype, long* shape, int ndim, int deviceType, int deviceIndex, int requiresGrad, out TensorHandle result);
    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_fill_on(int kind, int dtype, long* shape, int ndim, int deviceType, int deviceIndex, out TensorHandle result);
    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_full(long* shape, int ndim, double value, int dtype, int deviceType, int deviceIndex, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_arange(double start, double end, double step, int dtype, int deviceType, int deviceIndex, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_numel(TensorHandle t, out long count);
    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_sizes(TensorHandle t, long* shape, int capacity, out int ndim);
    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_item_as(TensorHandle t, int dtype, void* dst);
    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_copy_from_data(TensorHandle t, void* src, long count, int dtype);
    [LibraryImport(Library)] internal static partial int mo_tensor_copy_(TensorHandle dst, TensorHandle src);

    // views and joins
    [LibraryImport(Library)] internal static partial int mo_tensor_narrow(TensorHandle a, long dim, long start, long length, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_slice(TensorHandle a, long dim, long start, long end, long step, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_select(TensorHandle a, long dim, long index, out TensorHandle result);
    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_view(TensorHandle a, long* shape, int ndim, out TensorHandle result);
    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_permute(TensorHandle a, long* dims, int ndim, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_transpose(TensorHandle a, long dim0, long dim1, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_contiguous(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_squeeze(TensorHandle a, long dim, int all, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_unsqueeze(TensorHandle a, long dim, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_flatten(TensorHandle a, long startDim, long endDim, out TensorHandle result);
    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_cat(IntPtr* tensors, long count, long dim, out TensorHandle result);
    [LibraryImport(Library)] internal static unsafe partial int mo_tensor_stack(IntPtr* tensors, long count, long dim, out TensorHandle result);

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

    [LibraryImport(Library)] internal static partial int mo_tensor_pow(TensorHandle a, TensorHandle b, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_sub_scalar(TensorHandle a, double s, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_rsub_scalar(TensorHandle a, double s, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_div_scalar(TensorHandle a, double s, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_rdiv_scalar(TensorHandle a, double s, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_pow_scalar(TensorHandle a, double s, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_rpow_scalar(TensorHandle a, double s, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_neg(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_abs(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_sqrt(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_tanh(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_sigmoid(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_clamp(TensorHandle a, int hasMin, double min, int hasMax, double max, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_compare(int op, TensorHandle a, TensorHandle b, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_compare_scalar(int op, TensorHandle a, double s, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_sum_dim(TensorHandle a, long dim, int keepdim, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_mean_dim(TensorHandle a, long dim, int keepdim, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_max_all(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_min_all(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_argmax_all(TensorHandle a, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_tensor_max_dim(TensorHandle a, long dim, int keepdim, out TensorHandle values, out TensorHandle indices);
    [LibraryImport(Library)] internal static partial int mo_tensor_min_dim(TensorHandle a, long dim, int keepdim, out TensorHandle values, out TensorHandle indices);

    // autograd
    [LibraryImport(Library)] internal static partial int mo_tensor_requires_grad(TensorHandle t, out int requiresGrad);
    [LibraryImport(Library)] internal static partial int mo_tensor_set_requires_grad(TensorHandle t, int requiresGrad);
    [LibraryImport(Library)] internal static partial int mo_tensor_backward(TensorHandle t);
    [LibraryImport(Library)] internal static partial int mo_tensor_grad(TensorHandle t, out IntPtr result);
    [LibraryImport(Library)] internal static partial int mo_tensor_zero_grad(TensorHandle t);
}
