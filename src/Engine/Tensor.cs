using ModelOps.Engine.Interop;

namespace ModelOps.Engine;

/// <summary>
/// A libtorch tensor. Owns one native reference through a SafeHandle; dispose it (or create it inside a
/// <see cref="DisposeScope"/>) to free native memory deterministically.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private readonly TensorHandle handle;

    internal Tensor(TensorHandle handle)
    {
        this.handle = handle;
        DisposeScope.Current?.Add(this);
    }

    internal DisposeScope? Scope { get; set; }

    internal TensorHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(handle.IsClosed, this);
            return handle;
        }
    }

    public bool IsDisposed => handle.IsClosed;

    public int Dim
    {
        get
        {
            NativeError.Check(NativeMethods.mo_tensor_dim(Handle, out int ndim));
            return ndim;
        }
    }

    public unsafe long[] Shape
    {
        get
        {
            var shape = new long[Dim];
            fixed (long* p = shape) NativeError.Check(NativeMethods.mo_tensor_shape(Handle, p));
            return shape;
        }
    }

    public long NumberOfElements => Shape.Aggregate(1L, (a, b) => a * b);

    public ScalarType Dtype
    {
        get
        {
            NativeError.Check(NativeMethods.mo_tensor_dtype(Handle, out int dtype));
            return (ScalarType)dtype;
        }
    }

    public Device Device
    {
        get
        {
            NativeError.Check(NativeMethods.mo_tensor_device(Handle, out int type, out int index));
            return new Device((DeviceType)type, index);
        }
    }

    public bool RequiresGrad
    {
        get
        {
            NativeError.Check(NativeMethods.mo_tensor_requires_grad(Handle, out int value));
            return value != 0;
        }
        set => NativeError.Check(NativeMethods.mo_tensor_set_requires_grad(Handle, value ? 1 : 0));
    }

    /// <summary>The gradient accumulated by <see cref="Backward"/>, or null when there is none.</summary>
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

    /// <summary>The value of a one-element tensor.</summary>
    public T Item<T>() where T : unmanaged
    {
        var values = ToArray<T>();
        if (values.Length != 1)
            throw new InvalidOperationException($"Item() needs a tensor with one element, this one has {values.Length}");
        return values[0];
    }

    public void Backward() => NativeError.Check(NativeMethods.mo_tensor_backward(Handle));

    /// <summary>Moves this tensor to the enclosing dispose scope (or to the caller when there is none).</summary>
    public Tensor MoveToOuterScope() => Scope is null ? this : Scope.MoveToOuter(this);

    /// <summary>Takes this tensor out of every dispose scope: the caller must dispose it.</summary>
    public Tensor DetachFromDisposeScope() => Scope is null ? this : Scope.Detach(this);

    public void Dispose()
    {
        Scope?.Forget(this);
        Scope = null;
        handle.Dispose();
    }

    public override string ToString() => IsDisposed ? "Tensor(disposed)" : $"Tensor([{string.Join(", ", Shape)}], {Dtype}, {Device})";
}
