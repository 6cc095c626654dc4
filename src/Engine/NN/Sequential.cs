namespace ModelOps.Engine.NN;

/// <summary>
/// Runs its modules in order; children are named "0", "1", ... as in PyTorch. Holds any module, including
/// custom ones written in C#, and takes ownership of the modules added.
/// </summary>
public sealed class Sequential : Module
{
    private readonly List<Module> layers = [];

    public Sequential(params Module[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var layer in layers) Add(layer);
    }

    /// <summary>The modules in the order they run.</summary>
    public IReadOnlyList<Module> Layers => layers;

    /// <summary>Appends a module (named by its position) and returns this container.</summary>
    public Sequential Add(Module layer)
    {
        RegisterModule(layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        layers.Add(layer);
        return this;
    }

    /// <summary>Feeds the input through every module; intermediate results are freed as soon as the next one exists.</summary>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var x = input;
        foreach (var layer in layers)
        {
            var next = layer.Forward(x);
            // Autograd keeps what it needs natively, so dropping the managed wrapper early is safe.
            DisposeIntermediate(x, input, next);
            x = next;
        }
        return x;
    }
}

/// <summary>A residual block: <c>x + inner(x)</c>. The inner module (child "inner") must keep the input's shape.</summary>
public sealed class Residual : Module
{
    private readonly Module inner;

    public Residual(Module inner)
    {
        this.inner = inner;
        RegisterModule("inner", inner);
    }

    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var branch = inner.Forward(input);
        var sum = input.Add(branch);
        DisposeIntermediate(branch, input, sum);
        return sum;
    }
}
