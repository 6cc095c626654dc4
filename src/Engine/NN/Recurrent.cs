using ModelOps.Engine.Interop;

namespace ModelOps.Engine.NN;

/// <summary>
/// Multi-layer long short-term memory. With <c>batchFirst</c> the input is [batch, seq, inputSize] and the output
/// [batch, seq, hiddenSize x directions]. Parameters are named as in PyTorch ("weight_ih_l0", "bias_hh_l1_reverse").
/// </summary>
public sealed class LSTM(long inputSize, long hiddenSize, long numLayers = 1, bool bidirectional = false, bool batchFirst = true, double dropout = 0)
    : Module(ModuleFactory.New((out NativeModuleHandle h) =>
        NativeMethods.mo_lstm_new(inputSize, hiddenSize, numLayers, bidirectional ? 1 : 0, batchFirst ? 1 : 0, dropout, out h)))
{
    /// <summary>
    /// Runs the sequence from state (h0, c0), each [layers x directions, batch, hiddenSize]; both null means zeros.
    /// Returns the output sequence and the final hidden and cell states.
    /// </summary>
    public (Tensor Output, Tensor H, Tensor C) ForwardWithState(Tensor input, Tensor? h0 = null, Tensor? c0 = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        if ((h0 is null) != (c0 is null)) throw new ArgumentException("pass both h0 and c0, or neither");
        using var state = new StateRefs(h0, c0);
        NativeError.Check(NativeMethods.mo_lstm_forward(Native, input.Handle, state.First, state.Second,
            out var output, out var h, out var c));
        return (new Tensor(output), new Tensor(h), new Tensor(c));
    }
}

/// <summary>Multi-layer gated recurrent unit; same layout and naming as <see cref="LSTM"/>.</summary>
public sealed class GRU(long inputSize, long hiddenSize, long numLayers = 1, bool bidirectional = false, bool batchFirst = true, double dropout = 0)
    : Module(ModuleFactory.New((out NativeModuleHandle h) =>
        NativeMethods.mo_gru_new(inputSize, hiddenSize, numLayers, bidirectional ? 1 : 0, batchFirst ? 1 : 0, dropout, out h)))
{
    /// <summary>Runs the sequence from h0 ([layers x directions, batch, hiddenSize], null means zeros); returns output and final state.</summary>
    public (Tensor Output, Tensor H) ForwardWithState(Tensor input, Tensor? h0 = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var state = new StateRefs(h0, null);
        NativeError.Check(NativeMethods.mo_gru_forward(Native, input.Handle, state.First, out var output, out var h));
        return (new Tensor(output), new Tensor(h));
    }
}

// Optional tensor arguments travel as raw pointers (null allowed); this keeps their handles alive meanwhile.
internal readonly ref struct StateRefs
{
    private readonly TensorHandle? first;
    private readonly TensorHandle? second;
    private readonly bool firstAdded;
    private readonly bool secondAdded;

    internal StateRefs(Tensor? a, Tensor? b)
    {
        first = a?.Handle;
        second = b?.Handle;
        first?.DangerousAddRef(ref firstAdded);
        try
        {
            second?.DangerousAddRef(ref secondAdded);
        }
        catch
        {
            if (firstAdded) first!.DangerousRelease();
            throw;
        }
    }

    internal IntPtr First => first?.DangerousGetHandle() ?? IntPtr.Zero;
    internal IntPtr Second => second?.DangerousGetHandle() ?? IntPtr.Zero;

    public void Dispose()
    {
        if (firstAdded) first!.DangerousRelease();
        if (secondAdded) second!.DangerousRelease();
    }
}
