using ModelOps.Engine.Interop;

namespace ModelOps.Engine.NN;

/// <summary>Runs its layers in order. Takes ownership of the layers passed in.</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> layers = [];

    public Sequential(params Module[] layers) : base(ModuleFactory.New(NativeMethods.mo_sequential_new))
    {
        foreach (var layer in layers) Add(layer);
    }

    public IReadOnlyList<Module> Layers => layers;

    public Sequential Add(Module layer)
    {
        NativeError.Check(NativeMethods.mo_sequential_push(Handle, layer.Handle));
        layers.Add(layer);
        return this;
    }

    public override void Dispose()
    {
        foreach (var layer in layers) layer.Dispose();
        layers.Clear();
        base.Dispose();
    }
}
