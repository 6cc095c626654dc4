using ModelOps.Engine.Interop;

namespace ModelOps.Engine;

public static partial class Torch
{
    // Shape-only overloads take the data as a 1-D tensor when no shape is given, as torch.tensor(list) does.

    /// <summary>A CPU tensor holding a copy of <paramref name="data"/>; without a shape it is 1-D.</summary>
    public static Tensor Tensor(float[] data, params long[] shape) => FromData<float>(data, shape, null, false);
    public static Tensor Tensor(double[] data, params long[] shape) => FromData<double>(data, shape, null, false);
    public static Tensor Tensor(long[] data, params long[] shape) => FromData<long>(data, shape, null, false);
    public static Tensor Tensor(int[] data, params long[] shape) => FromData<int>(data, shape, null, false);
    public static Tensor Tensor(byte[] data, params long[] shape) => FromData<byte>(data, shape, null, false);
    public static Tensor Tensor(bool[] data, params long[] shape) => FromData<bool>(data, shape, null, false);

    /// <summary>A tensor holding a copy of <paramref name="data"/> on <paramref name="device"/> (CPU when null).</summary>
    public static Tensor Tensor(float[] data, long[] shape, Device? device = null, bool requiresGrad = false) => FromData<float>(data, shape, device, requiresGrad);
    public static Tensor Tensor(double[] data, long[] shape, Device? device = null, bool requiresGrad = false) => FromData<double>(data, shape, device, requiresGrad);
    public static Tensor Tensor(long[] data, long[] shape, Device? device = null, bool requiresGrad = false) => FromData<long>(data, shape, device, requiresGrad);
    public static Tensor Tensor(int[] data, long[] shape, Device? device = null, bool requiresGrad = false) => FromData<int>(data, shape, device, requiresGrad);
    public static Tensor Tensor(byte[] data, long[] shape, Device? device = null, bool requiresGrad = false) => FromData<byte>(data, shape, device, requiresGrad);
    public static Tensor Tensor(bool[] data, long[] shape, Device? device = null, bool requiresGrad = false) => FromData<bool>(data, shape, device, requiresGrad);

    /// <summary>A CPU tensor holding a copy of the span; without a shape it is 1-D.</summary>
    public static Tensor Tensor(ReadOnlySpan<float> data, params long[] shape) => FromData(data, shape, null, false);
    public static Tensor Tensor(ReadOnlySpan<double> data, params long[] shape) => FromData(data, shape, null, false);
    public static Tensor Tensor(ReadOnlySpan<long> data, params long[] shape) => FromData(data, shape, null, false);
    public static Tensor Tensor(ReadOnlySpan<int> data, params long[] shape) => FromData(data, shape, null, false);
    public static Tensor Tensor(ReadOnlySpan<byte> data, params long[] shape) => FromData(data, shape, null, false);
    public static Tensor Tensor(ReadOnlySpan<bool> data, params long[] shape) => FromData(data, shape, null, false);

    /// <summary>A tensor holding a copy of the span; without a shape it is 1-D.</summary>
    public static Tensor Tensor(ReadOnlySpan<float> data, long[]? shape = null, Device? device = null, bool requiresGrad = false) => FromData(data, shape, device, requiresGrad);
    public static Tensor Tensor(ReadOnlySpan<double> data, long[]? shape = null, Device? device = null, bool requiresGrad = false) => FromData(data, shape, device, requiresGrad);
    public static Tensor Tensor(ReadOnlySpan<long> data, long[]? shape = null, Device? device = null, bool requiresGrad = false) => FromData(data, shape, device, requiresGrad);
    public static Tensor Tensor(ReadOnlySpan<int> data, long[]? shape = null, Device? device = null, bool requiresGrad = false) => FromData(data, shape, device, requiresGrad);
    public static Tensor Tensor(ReadOnlySpan<byte> data, long[]? shape = null, Device? device = null, bool requiresGrad = false) => FromData(data, shape, device, requiresGrad);
    public static Tensor Tensor(ReadOnlySpan<bool> data, long[]? shape = null, Device? device = null, bool requiresGrad = false) => FromData(data, shape, device, requiresGrad);

    /// <summary>A 0-dim tensor holding one value.</summary>
    public static Tensor Scalar(double value, ScalarType dtype = ScalarType.Float32, Device? device = null) => Full([], value, dtype, device);

    public static Tensor Zeros(params long[] shape) => Fill(0, ScalarType.Float32, shape, null);
    public static Tensor Zeros(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) => Fill(0, dtype, shape, device);
    public static Tensor Ones(params long[] shape) => Fill(1, ScalarType.Float32, shape, null);
    public static Tensor Ones(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) => Fill(1, dtype, shape, device);
    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor Rand(params long[] shape) => Fill(2, ScalarType.Float32, shape, null);
    /// <summary>Uniform samples in [0, 1) of a floating <paramref name="dtype"/>.</summary>
    public static Tensor Rand(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) => Fill(2, dtype, shape, device);
    /// <summary>Standard normal samples.</summary>
    public static Tensor Randn(params long[] shape) => Fill(3, ScalarType.Float32, shape, null);
    /// <summary>Standard normal samples of a floating <paramref name="dtype"/>.</summary>
    public static Tensor Randn(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) => Fill(3, dtype, shape, device);

    /// <summary>Every element set to <paramref name="value"/>.</summary>
    public static unsafe Tensor Full(long[] shape, double value, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var d = device ?? Device.Cpu;
        TensorHandle result;
        fixed (long* s = shape)
            NativeError.Check(NativeMethods.mo_tensor_full(s, shape.Length, value, (int)dtype, (int)d.Type, d.Index, out result));
        return new Tensor(result);
    }

    /// <summary>Values start, start+step, ... below <paramref name="end"/> (above it for a negative step).</summary>
    public static Tensor Arange(double start, double end, double step = 1, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var d = device ?? Device.Cpu;
        NativeError.Check(NativeMethods.mo_tensor_arange(start, end, step, (int)dtype, (int)d.Type, d.Index, out var result));
        return new Tensor(result);
    }

    /// <summary>Joins tensors along an existing dimension.</summary>
    public static Tensor Cat(IEnumerable<Tensor> tensors, long dim = 0) => Join(tensors, dim, stack: false);

    /// <summary>Joins same-shaped tensors along a new dimension.</summary>
    public static Tensor Stack(IEnumerable<Tensor> tensors, long dim = 0) => Join(tensors, dim, stack: true);

    private static unsafe Tensor Join(IEnumerable<Tensor> tensors, long dim, bool stack)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors as IReadOnlyList<Tensor> ?? tensors.ToArray();
        var handles = new TensorHandle[list.Count];
        var raw = new IntPtr[list.Count];
        var added = new bool[list.Count];
        try
        {
            // Hold a reference on every handle for the call, as the marshaller does for single arguments.
            for (int i = 0; i < list.Count; i++)
            {
                handles[i] = (list[i] ?? throw new ArgumentException("the tensor list holds null", nameof(tensors))).Handle;
                handles[i].DangerousAddRef(ref added[i]);
                raw[i] = handles[i].DangerousGetHandle();
            }
            TensorHandle result;
            fixed (IntPtr* p = raw)
                NativeError.Check(stack
                    ? NativeMethods.mo_tensor_stack(p, raw.Length, dim, out result)
                    : NativeMethods.mo_tensor_cat(p, raw.Length, dim, out result));
            return new Tensor(result);
        }
        finally
        {
            for (int i = 0; i < handles.Length; i++)
                if (added[i]) handles[i].DangerousRelease();
        }
    }

    private static unsafe Tensor FromData<T>(ReadOnlySpan<T> data, long[]? shape, Device? device, bool requiresGrad) where T : unmanaged
    {
        if (shape is null || shape.Length == 0) shape = [data.Length];
        long count = 1;
        foreach (long s in shape)
        {
            if (s < 0) throw new ArgumentException($"shape [{string.Join(", ", shape)}] has a negative size", nameof(shape));
            count = checked(count * s);
        }
        if (count != data.Length)
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] holds {count} elements but {data.Length} were given", nameof(shape));
        var d = device ?? Device.Cpu;
        TensorHandle result;
        fixed (T* p = data)
        fixed (long* s = shape)
            NativeError.Check(NativeMethods.mo_tensor_from_data_on(p, (int)ScalarTypes.Of<T>(), s, shape.Length, (int)d.Type, d.Index, requiresGrad ? 1 : 0, out result));
        return new Tensor(result);
    }

    private static unsafe Tensor Fill(int kind, ScalarType dtype, long[] shape, Device? device)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var d = device ?? Device.Cpu;
        TensorHandle result;
        fixed (long* s = shape)
            NativeError.Check(NativeMethods.mo_tensor_fill_on(kind, (int)dtype, s, shape.Length, (int)d.Type, d.Index, out result));
        return new Tensor(result);
    }
}
