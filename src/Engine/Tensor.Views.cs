using ModelOps.Engine.Interop;

namespace ModelOps.Engine;

public sealed partial class Tensor
{
    /// <summary>The sub-tensor at <paramref name="index"/> along dimension 0 (a view).</summary>
    [System.Runtime.CompilerServices.IndexerName("TensorItems")] // "Item" is taken by Item<T>()
    public Tensor this[long index] => Select(0, index);

    /// <summary>Removes dimension <paramref name="dim"/> by taking its <paramref name="index"/>-th entry (a view).</summary>
    public Tensor Select(long dim, long index)
    {
        NativeError.Check(NativeMethods.mo_tensor_select(Handle, dim, index, out var result));
        return new Tensor(result);
    }

    /// <summary><paramref name="length"/> entries of <paramref name="dim"/> starting at <paramref name="start"/> (a view).</summary>
    public Tensor Narrow(long dim, long start, long length)
    {
        NativeError.Check(NativeMethods.mo_tensor_narrow(Handle, dim, start, length, out var result));
        return new Tensor(result);
    }

    /// <summary>Entries start, start+step, ... before end along <paramref name="dim"/>, like Python's
    /// <c>t[start:end:step]</c>; out-of-range bounds are clamped (a view).</summary>
    public Tensor Slice(long dim, long start, long end, long step = 1)
    {
        NativeError.Check(NativeMethods.mo_tensor_slice(Handle, dim, start, end, step, out var result));
        return new Tensor(result);
    }

    /// <summary>Entries of <paramref name="dim"/> picked by an int64 <paramref name="index"/> tensor (a copy).</summary>
    public Tensor IndexSelect(long dim, Tensor index)
    {
        NativeError.Check(NativeMethods.mo_tensor_index_select(Handle, dim, index.Handle, out var result));
        return new Tensor(result);
    }

    /// <summary>Same data in a new shape (a view when possible, else a copy); one size may be -1.</summary>
    public unsafe Tensor Reshape(params long[] shape)
    {
        TensorHandle result;
        fixed (long* p = shape) NativeError.Check(NativeMethods.mo_tensor_reshape(Handle, p, shape.Length, out result));
        return new Tensor(result);
    }

    /// <summary>Same data in a new shape; always a view, so it fails on incompatible strides.</summary>
    public unsafe Tensor View(params long[] shape)
    {
        TensorHandle result;
        fixed (long* p = shape) NativeError.Check(NativeMethods.mo_tensor_view(Handle, p, shape.Length, out result));
        return new Tensor(result);
    }

    /// <summary>Reorders the dimensions (a view).</summary>
    public unsafe Tensor Permute(params long[] dims)
    {
        TensorHandle result;
        fixed (long* p = dims) NativeError.Check(NativeMethods.mo_tensor_permute(Handle, p, dims.Length, out result));
        return new Tensor(result);
    }

    /// <summary>Swaps two dimensions (a view).</summary>
    public Tensor Transpose(long dim0, long dim1)
    {
        NativeError.Check(NativeMethods.mo_tensor_transpose(Handle, dim0, dim1, out var result));
        return new Tensor(result);
    }

    /// <summary>This tensor with row-major contiguous storage (itself, as a new handle, when it already is).</summary>
    public Tensor Contiguous() => Apply(NativeMethods.mo_tensor_contiguous);

    /// <summary>Removes every dimension of size 1.</summary>
    public Tensor Squeeze()
    {
        NativeError.Check(NativeMethods.mo_tensor_squeeze(Handle, 0, 1, out var result));
        return new Tensor(result);
    }

    /// <summary>Removes dimension <paramref name="dim"/> when its size is 1 (otherwise returns the same shape).</summary>
    public Tensor Squeeze(long dim)
    {
        NativeError.Check(NativeMethods.mo_tensor_squeeze(Handle, dim, 0, out var result));
        return new Tensor(result);
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="dim"/>.</summary>
    public Tensor Unsqueeze(long dim)
    {
        NativeError.Check(NativeMethods.mo_tensor_unsqueeze(Handle, dim, out var result));
        return new Tensor(result);
    }

    /// <summary>Merges dimensions <paramref name="startDim"/> through <paramref name="endDim"/> into one.</summary>
    public Tensor Flatten(long startDim = 0, long endDim = -1)
    {
        NativeError.Check(NativeMethods.mo_tensor_flatten(Handle, startDim, endDim, out var result));
        return new Tensor(result);
    }
}
