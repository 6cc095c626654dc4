using ModelOps.Engine.Interop;
using ModelOps.Engine.Optim;

namespace ModelOps.Engine.NN;

/// <summary>Training helpers over parameter gradients.</summary>
public static class Utils
{
    /// <summary>
    /// Scales the gradients of <paramref name="parameters"/> in place so their joint norm is at most
    /// <paramref name="maxNorm"/> (libtorch's clip_grad_norm_); parameters without a gradient are skipped.
    /// Returns the total norm before clipping. <paramref name="normType"/> may be <see cref="double.PositiveInfinity"/>.
    /// </summary>
    public static unsafe double ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2)
    {
        if (!(maxNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be non-negative");
        if (!(normType > 0)) throw new ArgumentOutOfRangeException(nameof(normType), normType, "normType must be positive (or +infinity)");
        using var list = new NativeTensorList(parameters, nameof(parameters));
        double total;
        fixed (IntPtr* raw = list.Raw)
            NativeError.Check(NativeMethods.mo_clip_grad_norm(raw, list.Count, maxNorm, normType, out total));
        return total;
    }
}
