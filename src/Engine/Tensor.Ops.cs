using ModelOps.Engine.Interop;

namespace ModelOps.Engine;

public sealed partial class Tensor
{
    private delegate int Unary(TensorHandle a, out TensorHandle result);
    private delegate int Binary(TensorHandle a, TensorHandle b, out TensorHandle result);

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

    public Tensor Add(Tensor other) => Apply(NativeMethods.mo_tensor_add, other);
    public Tensor Sub(Tensor other) => Apply(NativeMethods.mo_tensor_sub, other);
    public Tensor Mul(Tensor other) => Apply(NativeMethods.mo_tensor_mul, other);
    public Tensor Div(Tensor other) => Apply(NativeMethods.mo_tensor_div, other);
    public Tensor MatMul(Tensor other) => Apply(NativeMethods.mo_tensor_matmul, other);
    public Tensor Eq(Tensor other) => Apply(NativeMethods.mo_tensor_eq, other);

    public Tensor Add(double scalar)
    {
        NativeError.Check(NativeMethods.mo_tensor_add_scalar(Handle, scalar, out var result));
        return new Tensor(result);
    }

    public Tensor Mul(double scalar)
    {
        NativeError.Check(NativeMethods.mo_tensor_mul_scalar(Handle, scalar, out var result));
        return new Tensor(result);
    }

    public Tensor ReLU() => Apply(NativeMethods.mo_tensor_relu);
    public Tensor Exp() => Apply(NativeMethods.mo_tensor_exp);
    public Tensor Log() => Apply(NativeMethods.mo_tensor_log);
    public Tensor Sum() => Apply(NativeMethods.mo_tensor_sum);
    public Tensor Mean() => Apply(NativeMethods.mo_tensor_mean);
    public Tensor Detach() => Apply(NativeMethods.mo_tensor_detach);
    public Tensor Clone() => Apply(NativeMethods.mo_tensor_clone);

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

    public Tensor ArgMax(long dim, bool keepDim = false)
    {
        NativeError.Check(NativeMethods.mo_tensor_argmax(Handle, dim, keepDim ? 1 : 0, out var result));
        return new Tensor(result);
    }

    public unsafe Tensor Reshape(params long[] shape)
    {
        TensorHandle result;
        fixed (long* p = shape) NativeError.Check(NativeMethods.mo_tensor_reshape(Handle, p, shape.Length, out result));
        return new Tensor(result);
    }

    public Tensor IndexSelect(long dim, Tensor index)
    {
        NativeError.Check(NativeMethods.mo_tensor_index_select(Handle, dim, index.Handle, out var result));
        return new Tensor(result);
    }

    public Tensor To(Device device) => To(device, null);

    public Tensor To(ScalarType dtype) => To(Device, dtype);

    public Tensor To(Device device, ScalarType? dtype)
    {
        NativeError.Check(NativeMethods.mo_tensor_to(Handle, (int)device.Type, device.Index, dtype is null ? -1 : (int)dtype.Value, out var result));
        return new Tensor(result);
    }

    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    public static Tensor operator +(Tensor a, double b) => a.Add(b);
    public static Tensor operator -(Tensor a, double b) => a.Add(-b);
    public static Tensor operator *(Tensor a, double b) => a.Mul(b);
    public static Tensor operator *(double a, Tensor b) => b.Mul(a);
    public static Tensor operator /(Tensor a, double b) => a.Mul(1.0 / b);
}
