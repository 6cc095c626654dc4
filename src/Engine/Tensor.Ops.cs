using ModelOps.Engine.Interop;

namespace ModelOps.Engine;

public sealed partial class Tensor
{
    private delegate int Unary(TensorHandle a, out TensorHandle result);
    private delegate int Binary(TensorHandle a, TensorHandle b, out TensorHandle result);
    private delegate int WithScalar(TensorHandle a, double s, out TensorHandle result);

    private enum Comparison
    {
        Eq = 0,
        Ne = 1,
        Lt = 2,
        Le = 3,
        Gt = 4,
        Ge = 5,
    }

    // Static method groups: the compiler caches these delegates, so an op allocates only its result.
    private Tensor Apply(Unary op)
    {
        NativeError.Check(op(Handle, out var result));
        return new Tensor(result);
    }

    private Tensor Apply(Binary op, Tensor other)
    {
        NativeError.Check(op(Handle, other.Handle, out var result));
        return new Tensor(result);
    }

    private Tensor Apply(WithScalar op, double scalar)
    {
        NativeError.Check(op(Handle, scalar, out var result));
        return new Tensor(result);
    }

    private Tensor Compare(Comparison op, Tensor other)
    {
        NativeError.Check(NativeMethods.mo_tensor_compare((int)op, Handle, other.Handle, out var result));
        return new Tensor(result);
    }

    private Tensor Compare(Comparison op, double scalar)
    {
        NativeError.Check(NativeMethods.mo_tensor_compare_scalar((int)op, Handle, scalar, out var result));
        return new Tensor(result);
    }

    /// <summary>Elementwise sum (broadcasting).</summary>
    public Tensor Add(Tensor other) => Apply(NativeMethods.mo_tensor_add, other);
    /// <summary>Elementwise difference (broadcasting).</summary>
    public Tensor Sub(Tensor other) => Apply(NativeMethods.mo_tensor_sub, other);
    /// <summary>Elementwise product (broadcasting).</summary>
    public Tensor Mul(Tensor other) => Apply(NativeMethods.mo_tensor_mul, other);
    /// <summary>Elementwise true division (broadcasting).</summary>
    public Tensor Div(Tensor other) => Apply(NativeMethods.mo_tensor_div, other);
    /// <summary>Elementwise power (broadcasting).</summary>
    public Tensor Pow(Tensor exponent) => Apply(NativeMethods.mo_tensor_pow, exponent);
    /// <summary>Matrix product with torch.matmul's broadcasting rules.</summary>
    public Tensor MatMul(Tensor other) => Apply(NativeMethods.mo_tensor_matmul, other);

    public Tensor Add(double scalar) => Apply(NativeMethods.mo_tensor_add_scalar, scalar);
    public Tensor Sub(double scalar) => Apply(NativeMethods.mo_tensor_sub_scalar, scalar);
    public Tensor Mul(double scalar) => Apply(NativeMethods.mo_tensor_mul_scalar, scalar);
    public Tensor Div(double scalar) => Apply(NativeMethods.mo_tensor_div_scalar, scalar);
    public Tensor Pow(double exponent) => Apply(NativeMethods.mo_tensor_pow_scalar, exponent);

    public Tensor Neg() => Apply(NativeMethods.mo_tensor_neg);
    public Tensor Abs() => Apply(NativeMethods.mo_tensor_abs);
    public Tensor Sqrt() => Apply(NativeMethods.mo_tensor_sqrt);
    public Tensor Exp() => Apply(NativeMethods.mo_tensor_exp);
    public Tensor Log() => Apply(NativeMethods.mo_tensor_log);
    public Tensor Tanh() => Apply(NativeMethods.mo_tensor_tanh);
    public Tensor Sigmoid() => Apply(NativeMethods.mo_tensor_sigmoid);
    public Tensor ReLU() => Apply(NativeMethods.mo_tensor_relu);

    /// <summary>Limits every element to [min, max]; either bound may be omitted, not both.</summary>
    public Tensor Clamp(double? min = null, double? max = null)
    {
        if (min is null && max is null) throw new ArgumentException("Clamp needs a min, a max or both");
        NativeError.Check(NativeMethods.mo_tensor_clamp(Handle, min is null ? 0 : 1, min ?? 0, max is null ? 0 : 1, max ?? 0, out var result));
        return new Tensor(result);
    }

    /// <summary>Elementwise ==, as a bool tensor.</summary>
    public Tensor Eq(Tensor other) => Compare(Comparison.Eq, other);
    public Tensor Ne(Tensor other) => Compare(Comparison.Ne, other);
    public Tensor Lt(Tensor other) => Compare(Comparison.Lt, other);
    public Tensor Le(Tensor other) => Compare(Comparison.Le, other);
    public Tensor Gt(Tensor other) => Compare(Comparison.Gt, other);
    public Tensor Ge(Tensor other) => Compare(Comparison.Ge, other);
    public Tensor Eq(double scalar) => Compare(Comparison.Eq, scalar);
    public Tensor Ne(double scalar) => Compare(Comparison.Ne, scalar);
    public Tensor Lt(double scalar) => Compare(Comparison.Lt, scalar);
    public Tensor Le(double scalar) => Compare(Comparison.Le, scalar);
    public Tensor Gt(double scalar) => Compare(Comparison.Gt, scalar);
    public Tensor Ge(double scalar) => Compare(Comparison.Ge, scalar);

    /// <summary>Sum of all elements as a 0-dim tensor.</summary>
    public Tensor Sum() => Apply(NativeMethods.mo_tensor_sum);

    /// <summary>Sum over one dimension.</summary>
    public Tensor Sum(long dim, bool keepDim = false)
    {
        NativeError.Check(NativeMethods.mo_tensor_sum_dim(Handle, dim, keepDim ? 1 : 0, out var result));
        return new Tensor(result);
    }

    /// <summary>Mean of all elements (floating tensors) as a 0-dim tensor.</summary>
    public Tensor Mean() => Apply(NativeMethods.mo_tensor_mean);

    /// <summary>Mean over one dimension.</summary>
    public Tensor Mean(long dim, bool keepDim = false)
    {
        NativeError.Check(NativeMethods.mo_tensor_mean_dim(Handle, dim, keepDim ? 1 : 0, out var result));
        return new Tensor(result);
    }

    /// <summary>Largest element as a 0-dim tensor.</summary>
    public Tensor Max() => Apply(NativeMethods.mo_tensor_max_all);

    /// <summary>Largest elements along <paramref name="dim"/> and where they are.</summary>
    public (Tensor Values, Tensor Indices) Max(long dim, bool keepDim = false)
    {
        NativeError.Check(NativeMethods.mo_tensor_max_dim(Handle, dim, keepDim ? 1 : 0, out var values, out var indices));
        return (new Tensor(values), new Tensor(indices));
    }

    /// <summary>Smallest element as a 0-dim tensor.</summary>
    public Tensor Min() => Apply(NativeMethods.mo_tensor_min_all);

    /// <summary>Smallest elements along <paramref name="dim"/> and where they are.</summary>
    public (Tensor Values, Tensor Indices) Min(long dim, bool keepDim = false)
    {
        NativeError.Check(NativeMethods.mo_tensor_min_dim(Handle, dim, keepDim ? 1 : 0, out var values, out var indices));
        return (new Tensor(values), new Tensor(indices));
    }

    /// <summary>Index of the largest element of the flattened tensor (int64, 0-dim).</summary>
    public Tensor ArgMax() => Apply(NativeMethods.mo_tensor_argmax_all);

    /// <summary>Indices of the largest elements along <paramref name="dim"/>.</summary>
    public Tensor ArgMax(long dim, bool keepDim = false)
    {
        NativeError.Check(NativeMethods.mo_tensor_argmax(Handle, dim, keepDim ? 1 : 0, out var result));
        return new Tensor(result);
    }

    public Tensor Softmax(long dim)
    {
        NativeError.Check(NativeMethods.mo_tensor_softmax(Handle, dim, out var result));
        return new Tensor(result);
    }

    public Tensor LogSoftmax(long dim)
    {
        NativeError.Check(NativeMethods.mo_tensor_log_softmax(Handle, dim, out var result));
        return new Tensor(result);
    }

    /// <summary>A tensor sharing data but cut off from the autograd graph.</summary>
    public Tensor Detach() => Apply(NativeMethods.mo_tensor_detach);

    /// <summary>A copy with its own storage (recorded by autograd).</summary>
    public Tensor Clone() => Apply(NativeMethods.mo_tensor_clone);

    public Tensor To(Device device) => To(device, null);

    public Tensor To(ScalarType dtype) => To(Device, dtype);

    /// <summary>Converts device and/or dtype (<paramref name="dtype"/> null keeps the current one).</summary>
    public Tensor To(Device device, ScalarType? dtype)
    {
        NativeError.Check(NativeMethods.mo_tensor_to(Handle, (int)device.Type, device.Index, dtype is null ? -1 : (int)dtype.Value, out var result));
        return new Tensor(result);
    }

    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    public static Tensor operator -(Tensor a) => a.Neg();
    public static Tensor operator +(Tensor a, double b) => a.Add(b);
    public static Tensor operator +(double a, Tensor b) => b.Add(a);
    public static Tensor operator -(Tensor a, double b) => a.Sub(b);
    public static Tensor operator -(double a, Tensor b) => b.Apply(NativeMethods.mo_tensor_rsub_scalar, a);
    public static Tensor operator *(Tensor a, double b) => a.Mul(b);
    public static Tensor operator *(double a, Tensor b) => b.Mul(a);
    public static Tensor operator /(Tensor a, double b) => a.Div(b);
    public static Tensor operator /(double a, Tensor b) => b.Apply(NativeMethods.mo_tensor_rdiv_scalar, a);
}
