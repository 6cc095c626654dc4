using ModelOps.Engine.Interop;

namespace ModelOps.Engine;

/// <summary>
/// A libtorch tensor. Owns one native reference through a SafeHandle; dispose it (or create it inside a
/// <see cref="DisposeScope"/>) to free native memory deterministically.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    // Shapes deeper than this fall back to a second native call; libtorch itself caps tensors at 64 dims.
    private const int InlineShapeCapacity = 16;

    private readonly TensorHandle handle;

    internal Tensor(TensorHandle handle)
    {
        this.handle = handle;
        DisposeScope.Current?.Add(this);
    }

    internal DisposeScope? Scope { get; set; }

    /// <summary>This tensor's slot in <see cref="Scope"/>, so leaving a scope is O(1) without hashing.</summary>
    internal int ScopeSlot { get; set; }

    internal TensorHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(handle.IsClosed, this);
            return handle;
        }
    }

    /// <summary>True once <see cref="Dispose"/> ran (directly or through its scope).</summary>
    public bool IsDisposed => handle.IsClosed;

    /// <summary>Number of dimensions.</summary>
    public int Dim
    {
        get
        {
            NativeError.Check(NativeMethods.mo_tensor_dim(Handle, out int ndim));
            return ndim;
        }
    }

    /// <summary>Size of each dimension.</summary>
    public unsafe long[] Shape
    {
        get
        {
            long* buffer = stackalloc long[InlineShapeCapacity];
            NativeError.Check(NativeMethods.mo_tensor_sizes(Handle, buffer, InlineShapeCapacity, out int ndim));
            var shape = new long[ndim];
            if (ndim <= InlineShapeCapacity)
            {
                new ReadOnlySpan<long>(buffer, ndim).CopyTo(shape);
                return shape;
            }
            fixed (long* p = shape) NativeError.Check(NativeMethods.mo_tensor_sizes(Handle, p, ndim, out _));
            return shape;
        }
    }

    /// <summary>Size of one dimension; negative dims count from the end.</summary>
    public long Size(int dim)
    {
        var shape = Shape;
        int d = dim < 0 ? dim + shape.Length : dim;
        if (d < 0 || d >= shape.Length)
            throw new ArgumentOutOfRangeException(nameof(dim), dim, $"tensor has {shape.Length} dimensions");
        return shape[d];
    }

    /// <summary>Total number of elements (product of <see cref="Shape"/>).</summary>
    public long NumberOfElements
    {
        get
        {
            NativeError.Check(NativeMethods.mo_tensor_numel(Handle, out long count));
            return count;
        }
    }

    /// <summary>Element type.</summary>
    public ScalarType Dtype
    {
        get
        {
            NativeError.Check(NativeMethods.mo_tensor_dtype(Handle, out int dtype));
            return (ScalarType)dtype;
        }
    }

    /// <summary>Where the data lives.</summary>
    public Device Device
    {
        get
        {
            NativeError.Check(NativeMethods.mo_tensor_device(Handle, out int type, out int index));
            return new Device((DeviceType)type, index);
        }
    }

    /// <summary>Whether autograd records operations on this tensor (settable on leaf tensors only).</summary>
    public bool RequiresGrad
    {
        get
        {
            NativeError.Check(NativeMethods.mo_tensor_requires_grad(Handle, out int value));
            return value != 0;
        }
        set => NativeError.Check(NativeMethods.mo_tensor_set_requires_grad(Handle, value ? 1 : 0));
    }

    /// <summary>The gradient accumulated by <see cref="Backward"/>, or null when there is none. Each read
    /// returns a new handle aliasing the same gradient: dispose it or read it inside a scope.</summary>
    public Tensor? Grad
    {
        get
        {
            NativeError.Check(NativeMethods.mo_tensor_grad(Handle, out IntPtr grad));
            return grad == IntPtr.Zero ? null : new Tensor(new TensorHandle(grad));
        }
    }

    /// <summary>Copies the elements (converted to <typeparamref name="T"/>, moved to the CPU) in row-major order.</summary>
    public unsafe T[] ToArray<T>() where T : unmanaged
    {
        var data = new T[checked((int)NumberOfElements)];
        fixed (T* p = data)
            NativeError.Check(NativeMethods.mo_tensor_copy_to(Handle, p, data.Length, (int)ScalarTypes.Of<T>()));
        return data;
    }

    /// <summary>The value of a one-element tensor, converted to <typeparamref name="T"/>.</summary>
    public unsafe T Item<T>() where T : unmanaged
    {
        T value = default;
        NativeError.Check(NativeMethods.mo_tensor_item_as(Handle, (int)ScalarTypes.Of<T>(), &value));
        return value;
    }

    /// <summary>Overwrites the elements in place from row-major <paramref name="data"/> (converted to this
    /// tensor's dtype, without autograd recording); its length must equal <see cref="NumberOfElements"/>.</summary>
    public unsafe void CopyFrom<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        fixed (T* p = data)
            NativeError.Check(NativeMethods.mo_tensor_copy_from_data(Handle, p, data.Length, (int)ScalarTypes.Of<T>()));
    }

    /// <summary>Array convenience for <see cref="CopyFrom{T}(ReadOnlySpan{T})"/>.</summary>
    public void CopyFrom<T>(T[] data) where T : unmanaged => CopyFrom(new ReadOnlySpan<T>(data));

    /// <summary>Copies <paramref name="source"/> into this tensor in place (broadcasting, converting dtype
    /// and device) without autograd recording, as state-dict loading needs.</summary>
    public void CopyFrom(Tensor source) => NativeError.Check(NativeMethods.mo_tensor_copy_(Handle, source.Handle));

    /// <summary>Back-propagates from this (one-element) tensor into the leaves' <see cref="Grad"/>.</summary>
    public void Backward() => NativeError.Check(NativeMethods.mo_tensor_backward(Handle));

    /// <summary>Zeroes the accumulated gradient in place, if there is one.</summary>
    public void ZeroGrad() => NativeError.Check(NativeMethods.mo_tensor_zero_grad(Handle));

    /// <summary>Moves this tensor to the enclosing dispose scope (or to the caller when there is none).</summary>
    public Tensor MoveToOuterScope() => Scope is null ? this : Scope.MoveToOuter(this);

    /// <summary>Takes this tensor out of every dispose scope: the caller must dispose it.</summary>
    public Tensor DetachFromDisposeScope() => Scope is null ? this : Scope.Detach(this);

    /// <summary>Frees the native reference now; views of this tensor stay valid.</summary>
    public void Dispose()
    {
        Scope?.Forget(this);
        Scope = null;
        handle.Dispose();
    }

    public override string ToString() => IsDisposed ? "Tensor(disposed)" : $"Tensor([{string.Join(", ", Shape)}], {Dtype}, {Device})";
}
