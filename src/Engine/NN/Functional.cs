using ModelOps.Engine.Interop;
using ModelOps.Engine.Optim;

namespace ModelOps.Engine.NN;

/// <summary>How a loss combines its per-element values (PyTorch's reduction argument).</summary>
public enum Reduction
{
    /// <summary>No reduction: one loss value per element (or per sample for cross-entropy).</summary>
    None = 0,
    /// <summary>Mean over the elements (weighted mean for cross-entropy with class weights).</summary>
    Mean = 1,
    /// <summary>Sum over the elements.</summary>
    Sum = 2,
    /// <summary>Sum divided by the batch size (first dimension); KL divergence only.</summary>
    BatchMean = 3,
}

/// <summary>Loss functions over libtorch's functional API.</summary>
public static class Functional
{
    /// <summary>
    /// Cross-entropy of logits [N, C] against int64 class ids [N] (or class probabilities [N, C]).
    /// <paramref name="weight"/> rescales each class [C]; <paramref name="labelSmoothing"/> in [0, 1] mixes
    /// the target with the uniform distribution.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, Tensor? weight = null, double labelSmoothing = 0, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(target);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must be in [0, 1]");
        int r = Plain(reduction, "CrossEntropy");
        bool added = false;
        TensorHandle? held = null;
        try
        {
            IntPtr w = NativeTensorList.AddRef(weight, out held, ref added);
            NativeError.Check(NativeMethods.mo_cross_entropy(logits.Handle, target.Handle, w, labelSmoothing, r, out var result));
            return new Tensor(result);
        }
        finally
        {
            NativeTensorList.Release(held, added);
        }
    }

    /// <summary>
    /// Binary cross-entropy on logits (a numerically stable sigmoid + BCE) against float targets in [0, 1]
    /// shaped like the logits. <paramref name="posWeight"/> weights the positive term per class.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor target, Tensor? posWeight = null, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(target);
        int r = Plain(reduction, "BinaryCrossEntropyWithLogits");
        bool added = false;
        TensorHandle? held = null;
        try
        {
            IntPtr pw = NativeTensorList.AddRef(posWeight, out held, ref added);
            NativeError.Check(NativeMethods.mo_bce_with_logits(logits.Handle, target.Handle, pw, r, out var result));
            return new Tensor(result);
        }
        finally
        {
            NativeTensorList.Release(held, added);
        }
    }

    /// <summary>Squared error (input - target)^2, reduced.</summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        NativeError.Check(NativeMethods.mo_mse_loss(input.Handle, target.Handle, Plain(reduction, "MseLoss"), out var result));
        return new Tensor(result);
    }

    /// <summary>Absolute error |input - target|, reduced.</summary>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        NativeError.Check(NativeMethods.mo_l1_loss(input.Handle, target.Handle, Plain(reduction, "L1Loss"), out var result));
        return new Tensor(result);
    }

    /// <summary>
    /// Kullback-Leibler divergence KL(target || input) where <paramref name="input"/> holds log-probabilities
    /// and <paramref name="target"/> probabilities (log-probabilities when <paramref name="logTarget"/>).
    /// <see cref="Reduction.BatchMean"/> (the default) gives the mathematically correct per-sample KL.
    /// </summary>
    public static Tensor KlDiv(Tensor input, Tensor target, bool logTarget = false, Reduction reduction = Reduction.BatchMean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (!Enum.IsDefined(reduction)) throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "unknown reduction");
        NativeError.Check(NativeMethods.mo_kl_div(input.Handle, target.Handle, logTarget ? 1 : 0, (int)reduction, out var result));
        return new Tensor(result);
    }

    private static int Plain(Reduction reduction, string loss) => reduction switch
    {
        Reduction.None or Reduction.Mean or Reduction.Sum => (int)reduction,
        Reduction.BatchMean => throw new ArgumentException($"{loss} supports Reduction.None, Mean or Sum; BatchMean is for KlDiv", nameof(reduction)),
        _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "unknown reduction"),
    };
}
