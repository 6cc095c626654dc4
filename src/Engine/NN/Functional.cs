using ModelOps.Engine.Interop;

namespace ModelOps.Engine.NN;

public static class Functional
{
    /// <summary>Mean cross-entropy of logits [N, C] against int64 class ids [N].</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target)
    {
        NativeError.Check(NativeMethods.mo_cross_entropy(logits.Handle, target.Handle, out var result));
        return new Tensor(result);
    }
}
